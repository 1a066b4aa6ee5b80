// net_hello_server: a trivial HttpServer ("hello" for every request) for load tests, e.g.
//   ./build/src/net/net_hello_server 8080 2 &  wrk -t2 -c64 -d10s http://127.0.0.1:8080/
// A WebSocket upgrade request (any path) gets an echo WebSocket (each message sent back from the
// connection's loop thread), to measure the net layer alone.
// Arguments: [port (default 8080)] [loops (default 2)]. Runs until killed (SIGINT/SIGTERM drain).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/signal_set.hpp>

#include "base/event_loop.h"
#include "duro/websocket.h"
#include "net/http_server.h"

namespace {

// Sends every message back.
class EchoEndpoint final : public duro::WebSocketEndpoint {
 public:
  void connected(std::shared_ptr<duro::WebSocketTransport> transport) override {
    transport_ = std::move(transport);
  }
  void message(std::string data, bool binary) override {
    transport_->send(std::move(data), binary);
  }
  // Answers the client's close frame at once, with its code and reason.
  void closeReceived(int code, std::string reason) override {
    transport_->close(code, std::move(reason));
  }
  void closed(int, std::string, bool) override { transport_.reset(); }
  void error(std::string) override {}

 private:
  std::shared_ptr<duro::WebSocketTransport> transport_;
};

}  // namespace

int main(int argc, char** argv) {
  using namespace duro;
  net::HttpServerOptions options;
  options.port = static_cast<uint16_t>(argc > 1 ? std::atoi(argv[1]) : 8080);
  int loopCount = argc > 2 ? std::atoi(argv[2]) : 2;
  if (loopCount < 1) loopCount = 1;

  std::vector<std::unique_ptr<base::EventLoop>> loops;
  std::vector<base::EventLoop*> pointers;
  for (int i = 0; i < loopCount; ++i) {
    loops.push_back(std::make_unique<base::EventLoop>());
    pointers.push_back(loops.back().get());
  }
  net::HttpServer server(pointers, options, [](Request request, net::Responder respond) {
    if (request.headers.has("upgrade")) {
      Response response;
      response.status = 101;
      response.webSocket = std::make_shared<EchoEndpoint>();
      respond(std::move(response));
      return;
    }
    respond(Response::text("hello\n"));
  });
  Status s = server.start();
  if (!s.isOk()) {
    std::fprintf(stderr, "%s\n", s.toString().c_str());
    return 1;
  }
  std::fprintf(stderr, "listening on 127.0.0.1:%u with %d loops\n", server.port(), loopCount);

  boost::asio::signal_set signals(loops[0]->io(), SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) {
    server.shutdown([&] {
      for (auto& loop : loops) loop->stop();
    });
  });
  std::vector<std::thread> threads;
  for (int i = 1; i < loopCount; ++i) threads.emplace_back([l = loops[i].get()] { l->run(); });
  loops[0]->run();
  for (auto& t : threads) t.join();
  return 0;
}
