// parley-fake, the executable: prints PORT=<n>, serves, and exits on stdin EOF or SIGTERM.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "raw_client.hpp"

namespace parley::fakes {
namespace {

using namespace std::chrono_literals;

// A running parley-fake with pipes on its stdin and stdout.
class FakeProcess {
 public:
  explicit FakeProcess(std::vector<std::string> args) {
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) throw std::runtime_error("pipe");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      close(in[1]);
      close(out[0]);
      std::vector<char *> argv;
      args.insert(args.begin(), PARLEY_FAKE_BINARY);
      for (auto &arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      execv(PARLEY_FAKE_BINARY, argv.data());
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    stdin_ = in[1];
    stdout_ = out[0];
  }
  ~FakeProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (stdin_ >= 0) close(stdin_);
    close(stdout_);
  }

  // Lines of stdout until one starts with `prefix` (returned) or the timeout.
  std::string line_starting(const std::string &prefix, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      size_t eol;
      while ((eol = buffer_.find('\n')) != std::string::npos) {
        std::string line = buffer_.substr(0, eol);
        buffer_.erase(0, eol + 1);
        if (line.starts_with(prefix)) return line;
      }
      pollfd p{stdout_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char buf[256];
      const ssize_t n = read(stdout_, buf, sizeof buf);
      if (n <= 0) break;
      buffer_.append(buf, static_cast<size_t>(n));
    }
    return {};
  }

  void close_stdin() {
    close(stdin_);
    stdin_ = -1;
  }
  void terminate() { kill(pid_, SIGTERM); }
  // Exit status, or -1 if it has not exited within `timeout`.
  int wait(std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(10ms);
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1, stdout_ = -1;
  std::string buffer_;
};

uint16_t port_of(const std::string &line) { return static_cast<uint16_t>(std::stoul(line.substr(5))); }

TEST(ParleyFake, OpenAiPrintsItsPortServesAndExitsOnStdinEof) {
  FakeProcess fake({"openai", "--port", "0", "--reply", "Hi from the CLI", "--api-key", "sk-cli", "--stdin"});
  const std::string line = fake.line_starting("PORT=");
  ASSERT_FALSE(line.empty());
  testing::RawClient client(port_of(line));
  const auto response = client.request("POST", "/v1/chat/completions",
                                       {{"Authorization", "Bearer sk-cli"}, {"Content-Type", "application/json"}},
                                       R"({"model":"m","messages":[{"role":"user","content":"hi"}]})");
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(nlohmann::json::parse(response.body)["choices"][0]["message"]["content"], "Hi from the CLI");
  fake.close_stdin();
  EXPECT_EQ(fake.wait(), 0);
}

TEST(ParleyFake, DeepgramWithTlsPrintsTheCaFileAndStopsOnSigterm) {
  FakeProcess fake({"deepgram", "--tls", "--transcript", "hello"});
  const std::string port = fake.line_starting("PORT=");
  const std::string ca = fake.line_starting("CA_FILE=");
  ASSERT_FALSE(port.empty());
  ASSERT_FALSE(ca.empty());
  testing::RawClient client(port_of(port), true, ca.substr(8));
  EXPECT_EQ(client.request("POST", "/v1/speak?encoding=mulaw&sample_rate=8000", {}, R"({"text":"Hi"})").status, 200);
  fake.terminate();
  EXPECT_EQ(fake.wait(), 0);
}

TEST(ParleyFake, UnknownServiceIsAUsageError) {
  FakeProcess fake({"nonsense"});
  EXPECT_EQ(fake.wait(), 2);
}

}  // namespace
}  // namespace parley::fakes
