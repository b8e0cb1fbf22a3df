// `joinedup serve` as shipped: the real binary, stopped by SIGTERM while a request is in flight.
#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "server_test_support.h"

namespace joinedup::server_test {
namespace {

std::string ReadAll(const std::filesystem::path& path) {
  std::stringstream text;
  text << std::ifstream(path).rdbuf();
  return text.str();
}

int ConnectLoopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{20, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

class ServeCommandTest : public ServerTest {};

TEST_F(ServeCommandTest, SigtermFinishesTheRequestInFlightAndExitsZero) {
  const std::filesystem::path err = dir_ / "serve.err";
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const int fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(fd, STDERR_FILENO);
    ::execl(JOINEDUP_EXECUTABLE, JOINEDUP_EXECUTABLE, "serve", "--db", db_.c_str(), "--port", "0",
            "--threads", "2", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // The port is in the first line: "joinedup serve: listening on http://127.0.0.1:PORT …".
  int port = 0;
  const std::regex listening(R"(listening on http://127\.0\.0\.1:(\d+))");
  for (int i = 0; i < 300 && port == 0; ++i) {
    std::smatch match;
    const std::string text = ReadAll(err);
    if (std::regex_search(text, match, listening))
      port = std::stoi(match[1]);
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_GT(port, 0) << ReadAll(err);

  // A request whose body is still arriving: headers and half the body now, the rest later.
  const std::string body = "token=" + std::string(43, 'A');
  const std::string head =
      "POST /auth/revoke HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
      "Content-Type: application/x-www-form-urlencoded\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n";
  const int fd = ConnectLoopback(port);
  ASSERT_GE(fd, 0);
  const std::string first = head + body.substr(0, 10);
  ASSERT_EQ(::send(fd, first.data(), first.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(first.size()));
  // Wait until the server counts it in flight (this /metrics request is the other one).
  httplib::Client client("127.0.0.1", port);
  bool in_flight = false;
  for (int i = 0; i < 100 && !in_flight; ++i) {
    auto metrics = client.Get("/metrics");
    in_flight =
        metrics && metrics->body.find("joinedup_http_requests_in_flight 2\n") != std::string::npos;
    if (!in_flight) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(in_flight);

  ASSERT_EQ(::kill(child, SIGTERM), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  // Stopped accepting: a new connection is refused (or never answered) …
  const int late = ConnectLoopback(port);
  if (late >= 0) {
    char byte;
    EXPECT_LE(::recv(late, &byte, 1, 0), 0);
    ::close(late);
  }
  // … but the request in flight completes.
  const std::string rest = body.substr(10);
  ASSERT_EQ(::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL), static_cast<ssize_t>(rest.size()));
  std::string response;
  char buffer[4096];
  for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) response.append(buffer, n);
  ::close(fd);
  EXPECT_EQ(response.rfind("HTTP/1.1 200", 0), 0u) << response;

  int status = 0;
  pid_t done = 0;
  for (int i = 0; i < 200 && done == 0; ++i) {
    done = ::waitpid(child, &status, WNOHANG);
    if (done == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (done == 0) {
    ::kill(child, SIGKILL);
    ::waitpid(child, &status, 0);
    FAIL() << "serve did not exit after SIGTERM\n" << ReadAll(err);
  }
  ASSERT_TRUE(WIFEXITED(status)) << ReadAll(err);
  EXPECT_EQ(WEXITSTATUS(status), 0) << ReadAll(err);
  const std::string log = ReadAll(err);
  EXPECT_NE(log.find("SIGTERM received"), std::string::npos) << log;
  EXPECT_NE(log.find("\"route\":\"/auth/revoke\",\"status\":200"), std::string::npos) << log;
}

TEST_F(ServeCommandTest, RefusesAnAddressItCannotHave) {
  const std::string command = std::string("'") + JOINEDUP_EXECUTABLE + "' serve --db '" + db_ +
                              "' --bind 203.0.113.1 --port 1 2>" + (dir_ / "err").string();
  const int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_NE(ReadAll(dir_ / "err").find("cannot listen on 203.0.113.1:1"), std::string::npos);
}

}  // namespace
}  // namespace joinedup::server_test
