// A SQLite database in a temp directory with a few accounts, and in-process servers on it.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "server/server.h"
#include "store/store.h"

namespace joinedup::server_test {

// Every account's password (test data only; each test database is made fresh).
inline constexpr const char* kPassword = "correct horse battery staple";

struct AccessLog {
  std::mutex mutex;
  std::vector<std::string> lines;
  std::vector<std::string> Lines() {
    std::lock_guard lock(mutex);
    return lines;
  }
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Starts a server on an ephemeral loopback port; `adjust` may change the options first.
  server::Server& StartServer(const std::function<void(server::ServerOptions&)>& adjust = {});
  std::unique_ptr<store::Store> OpenDb() const;
  // Audit events of a subtype, oldest first.
  std::vector<store::AuditEvent> AuditEvents(const std::string& subtype) const;

  std::filesystem::path dir_;
  std::string db_;         // a SQLite file in dir_ unless a subclass set it before SetUp
  int64_t grace_id_ = 0;   // GP at A81001, on care team `team_id_`
  int64_t client_id_ = 0;  // "integration": a commissioner account used by a system
  int64_t team_id_ = 0;
  std::shared_ptr<std::atomic<int64_t>> clock_offset_ = std::make_shared<std::atomic<int64_t>>(0);
  std::shared_ptr<AccessLog> log_ = std::make_shared<AccessLog>();
  std::vector<std::unique_ptr<server::Server>> servers_;
};

}  // namespace joinedup::server_test
