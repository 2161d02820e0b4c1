// The HTTP gateway's connection handling: keep-alive connections that last, and Nagle's
// algorithm off on every accepted connection (without it each response's body waited for the
// client's delayed ACK: ~40 ms a request, docs/benchmarks.md "Per-call cost").
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "engine/real/api/api_test_fixture.h"
#include "engine/real/api/http_gateway.h"

namespace meridian::real::api {
namespace {

using testing::ApiTest;

struct PortSocket {
  int fd;
  bool connected;  // has a peer: the server's side of an accepted connection
};

// This process's IPv4 sockets whose local port is `port`: the listening socket and the server's
// side of every connection accepted on it.
std::vector<PortSocket> sockets_on_port(int port) {
  std::vector<PortSocket> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const std::string target = std::filesystem::read_symlink(entry.path(), ec).string();
    if (ec || target.rfind("socket:", 0) != 0) continue;
    const int fd = std::stoi(entry.path().filename().string());
    sockaddr_in local{}, peer{};
    socklen_t local_len = sizeof local, peer_len = sizeof peer;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0 ||
        local.sin_family != AF_INET || ntohs(local.sin_port) != port) {
      continue;
    }
    found.push_back({fd, getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) == 0});
  }
  return found;
}

std::vector<int> accepted_sockets(int port) {
  std::vector<int> fds;
  for (const PortSocket& s : sockets_on_port(port)) {
    if (s.connected) fds.push_back(s.fd);
  }
  return fds;
}

int listening_socket(int port) {
  for (const PortSocket& s : sockets_on_port(port)) {
    if (!s.connected) return s.fd;
  }
  return -1;
}

// httplib listens with a backlog of 5; a busy node's accept thread then falls behind and the
// kernel drops SYNs, which clients retry only after 1 s. For a listening socket Linux reports
// the backlog in tcp_info.tcpi_sacked.
TEST_F(ApiTest, HttpListenBacklogIsNotHttplibsFive) {
  const int fd = listening_socket(http_port_);
  ASSERT_GE(fd, 0);
  tcp_info info{};
  socklen_t len = sizeof info;
  ASSERT_EQ(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len), 0);
  EXPECT_GE(info.tcpi_sacked, 128u) << "listen backlog";
}

TEST_F(ApiTest, HttpConnectionsHaveNagleOff) {
  httplib::Client client("127.0.0.1", http_port_);
  client.set_keep_alive(true);  // the connection stays open after the answer
  auto res = client.Get("/healthz");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  ASSERT_EQ(res->status, 200);

  const std::vector<int> fds = accepted_sockets(http_port_);
  ASSERT_EQ(fds.size(), 1u) << "the keep-alive connection, on the server's side";
  int nodelay = 0;
  socklen_t len = sizeof nodelay;
  ASSERT_EQ(getsockopt(fds[0], IPPROTO_TCP, TCP_NODELAY, &nodelay, &len), 0);
  EXPECT_NE(nodelay, 0) << "TCP_NODELAY is off on an accepted HTTP connection";
}

TEST_F(ApiTest, HttpKeepAliveConnectionServesManyRequests) {
  httplib::Client client("127.0.0.1", http_port_);
  client.set_keep_alive(true);
  // httplib's own default closes a connection after its 5th request ("Connection: close"), so
  // every fifth request paid a new TCP connection.
  for (int i = 1; i <= 50; ++i) {
    auto res = client.Get("/healthz");
    ASSERT_TRUE(res) << "request " << i << ": " << httplib::to_string(res.error());
    ASSERT_EQ(res->status, 200);
    EXPECT_NE(res->get_header_value("Connection"), "close") << "request " << i;
  }
  EXPECT_EQ(accepted_sockets(http_port_).size(), 1u);
}

TEST_F(ApiTest, HttpKeepAliveConnectionIsClosedAfterItsRequestBudget) {
  HttpOptions options;
  options.keep_alive_max_requests = 3;
  HttpGateway gateway(*service_, options);
  Result<int> port = gateway.start("127.0.0.1", 0);
  ASSERT_TRUE(port.is_ok()) << port.status().to_string();
  httplib::Client client("127.0.0.1", *port);
  client.set_keep_alive(true);
  std::vector<std::string> connection;
  for (int i = 0; i < 4; ++i) {
    auto res = client.Get("/healthz");
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    connection.push_back(res->get_header_value("Connection"));
  }
  // The third answer closes the connection; the client reconnects for the fourth.
  EXPECT_EQ(connection, (std::vector<std::string>{"", "", "close", ""}));
  gateway.stop();
}

}  // namespace
}  // namespace meridian::real::api
