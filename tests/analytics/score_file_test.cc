// The id,code file scorer: formats, ordering, parallel merging, and bad input.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "analytics/score_file.h"

namespace joinedup::analytics {
namespace {

std::string Output(std::string_view text, ScoreKind kind, int threads = 1) {
  auto scored = ScoreCsvText("in.csv", text, kind, threads);
  EXPECT_TRUE(scored.ok()) << scored.error().ToString();
  if (!scored.ok()) return "";
  return FormatScoredFile(*scored, threads);
}

std::string ErrorOf(std::string_view text, int threads = 1) {
  auto scored = ScoreCsvText("in.csv", text, ScoreKind::kCharlson, threads);
  EXPECT_FALSE(scored.ok()) << text;
  if (scored.ok()) return "";
  EXPECT_EQ(scored.error().code, ErrorCode::kInvalidInput);
  return scored.error().message;
}

const char kCharlsonHeader[] =
    "id,charlson_1987,charlson_quan2011,mi,chf,pvd,cevd,dementia,cpd,rheumd,pud,mld,diab,diabwc,"
    "hp,rend,canc,msld,metacanc,aids\n";

TEST(ScoreFileTest, CharlsonRowsInFirstAppearanceOrderWithFlagsAfterTheHierarchy) {
  const std::string out = Output(
      "id,code\n"
      "p2,K70.0\n"
      "p1,I21.0\n"
      "p2,K70.4\n"
      "p3,R69\n"
      "p1,I50.0\n",
      ScoreKind::kCharlson);
  EXPECT_EQ(out, std::string(kCharlsonHeader) +
                     "p2,3,4,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,0,0\n"
                     "p1,2,2,1,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0\n"
                     "p3,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0\n");
}

TEST(ScoreFileTest, HeaderIsOptionalAndQuotingCrlfBomAndBlankLinesWork) {
  const std::string with_header = Output("ID , Code\r\n1,I21\r\n", ScoreKind::kHfrs);
  EXPECT_EQ(Output("1,I21\n", ScoreKind::kHfrs), with_header);
  EXPECT_EQ(with_header, "id,hfrs,hfrs_band,hfrs_categories\n1,0.0,low,\n");
  EXPECT_EQ(Output("\xEF\xBB\xBF\"id\",\"code\"\n\n\"a,b\",\"F00.1\"\n  \n\"a,b\",W19\n"
                   "\"say \"\"x\"\"\",\"N39\"",
                   ScoreKind::kHfrs),
            "id,hfrs,hfrs_band,hfrs_categories\n\"a,b\",10.3,intermediate,F00 W19\n"
            "\"say \"\"x\"\"\",3.2,low,N39\n");
}

TEST(ScoreFileTest, ElixhauserOutput) {
  const std::string out = Output("9,I42.6\n", ScoreKind::kElixhauser);
  EXPECT_EQ(out.substr(0, out.find('\n')).substr(0, 41),
            "id,elixhauser_vw2009,elixhauser_swiss,chf");
  EXPECT_EQ(out.substr(out.find('\n') + 1, 9), "9,7,10,1,");
}

TEST(ScoreFileTest, ScatteredIdsMergeAcrossChunksIdenticallyForAnyThreadCount) {
  // ~3 MB so that several chunks are used; each id's rows are spread over the whole file.
  std::string text = "id,code\n";
  const char* codes[] = {"I21", "K70.0", "K70.4", "E11.9", "E11.2", "C34",
                         "C78", "F00",   "R69",   "B20",   "N39.0", "W19"};
  for (int i = 0; i < 300000; ++i) {
    text += std::to_string((int64_t{i} * 7919) % 20011) + "," + codes[(i * 31 + i / 7) % 12] + "\n";
  }
  for (ScoreKind kind : {ScoreKind::kCharlson, ScoreKind::kElixhauser, ScoreKind::kHfrs}) {
    const std::string one = Output(text, kind, 1);
    EXPECT_EQ(Output(text, kind, 2), one);
    EXPECT_EQ(Output(text, kind, 7), one);
    auto scored = ScoreCsvText("in.csv", text, kind, 5);
    ASSERT_TRUE(scored.ok());
    EXPECT_EQ(scored->rows, 300000);
    EXPECT_EQ(scored->people.size(), 20011u);
    EXPECT_EQ(scored->people[0].id, "0");
    EXPECT_EQ(scored->people[1].id, "7919");
  }
}

TEST(ScoreFileTest, MalformedRowsNameTheLine) {
  EXPECT_EQ(ErrorOf(""), "in.csv: empty file (expected id,code rows)");
  EXPECT_EQ(ErrorOf("id,code\n"), "in.csv: no data rows (expected id,code rows)");
  EXPECT_EQ(ErrorOf("id,code\n1,I21\n2\n"), "in.csv:3: expected 2 fields (id,code), found 1");
  EXPECT_EQ(ErrorOf("1,I21,x\n"),
            "in.csv:1: expected 2 fields (id,code), found 3 (quote a field that holds a comma)");
  EXPECT_EQ(ErrorOf("1,I21\n,I22\n"), "in.csv:2: field 'id': empty");
  EXPECT_EQ(ErrorOf("1,I21\n2,\n"), "in.csv:2: field 'code': empty");
  EXPECT_EQ(ErrorOf("1,I21\n2,  \n"), "in.csv:2: field 'code': empty");
  EXPECT_EQ(ErrorOf("1,\"I21\n2,I22\n"),
            "in.csv:1: field 'code': unterminated quoted field (a field may not span lines)");
  EXPECT_EQ(ErrorOf("1,\"I21\"x\n"), "in.csv:1: field 'code': text after a closing quote");
  EXPECT_EQ(ErrorOf("1,I\"21\n"), "in.csv:1: field 'code': quote inside an unquoted field");
  EXPECT_EQ(ErrorOf("1,I21\r2,I22\n"), "in.csv:1: carriage return inside a line");
}

TEST(ScoreFileTest, TheFirstErrorInTheFileIsReportedWhicheverChunkFindsIt) {
  std::string text;
  for (int i = 1; i <= 200000; ++i) {
    text += std::to_string(i % 997) + ",I21\n";
    if (i == 150000) text += "bad row\n";  // line 150001
    if (i == 190000) text += "x,\n";
  }
  for (int threads : {1, 3, 8}) {
    EXPECT_EQ(ErrorOf(text, threads), "in.csv:150001: expected 2 fields (id,code), found 1");
  }
}

TEST(ScoreFileTest, FilesAreReadAndWrittenAndErrorsNameThem) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("ju_score_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string in = (dir / "in.csv").string(), out = (dir / "out.csv").string();
  std::ofstream(in) << "id,code\n1,F00\n";
  auto stats = ScoreFile(in, out, ScoreKind::kHfrs, 0);
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();
  EXPECT_EQ(stats->rows, 1);
  EXPECT_EQ(stats->people, 1);
  std::stringstream written;
  written << std::ifstream(out).rdbuf();
  EXPECT_EQ(written.str(), "id,hfrs,hfrs_band,hfrs_categories\n1,7.1,intermediate,F00\n");

  auto missing = ScoreFile((dir / "nope.csv").string(), out, ScoreKind::kHfrs, 1);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("cannot open '" + (dir / "nope.csv").string() + "'"),
            std::string::npos);
  std::ofstream(in, std::ios::trunc) << "1,F00\n2\n";
  std::filesystem::remove(out);
  auto bad = ScoreFile(in, out, ScoreKind::kHfrs, 1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, in + ":2: expected 2 fields (id,code), found 1");
  EXPECT_FALSE(std::filesystem::exists(out));  // no partial output
  std::ofstream(in, std::ios::trunc) << "";
  EXPECT_FALSE(ScoreFile(in, out, ScoreKind::kHfrs, 1).ok());
  std::filesystem::remove_all(dir);
}

TEST(ScoreFileTest, ScoreNames) {
  EXPECT_EQ(ScoreKindFromName("charlson"), ScoreKind::kCharlson);
  EXPECT_EQ(ScoreKindFromName("hfrs"), ScoreKind::kHfrs);
  EXPECT_FALSE(ScoreKindFromName("Charlson").has_value());
  EXPECT_FALSE(ScoreKindFromName("efi").has_value());
}

}  // namespace
}  // namespace joinedup::analytics
