// duro::Request, duro::Response and duro::Headers: the HTTP messages that Workers and native
// Durable Objects receive and return. Plain values with no dependencies, so every layer (net,
// runtime, the SDK) can pass them around; the net layer converts to and from the wire.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace duro {

// An ordered multimap of header fields. Names compare case-insensitively, as in HTTP.
class Headers {
 public:
  using Field = std::pair<std::string, std::string>;

  // The first value of `name`, if present.
  std::optional<std::string_view> get(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }
  // Replaces every field named `name` with one field.
  void set(std::string_view name, std::string_view value);
  // Adds a field, keeping any others of the same name.
  void append(std::string_view name, std::string_view value);
  void remove(std::string_view name);

  const std::vector<Field>& fields() const { return fields_; }
  bool empty() const { return fields_.empty(); }

 private:
  std::vector<Field> fields_;
};

// True if the two strings are equal ignoring ASCII case.
bool equalsIgnoreCase(std::string_view a, std::string_view b);

struct Request {
  std::string method = "GET";
  // The full URL, e.g. "http://127.0.0.1:8787/counter/alice?x=1" (like a Worker's request.url).
  std::string url;
  Headers headers;
  std::string body;
  // The client's IP address as the server saw it ("127.0.0.1"); empty for requests made by code
  // (stub calls). Workers see it as the CF-Connecting-IP header.
  std::string clientAddress;

  // The path of `url`, without the query ("/counter/alice").
  std::string_view path() const;
  // The query of `url` without the '?' ("" if none).
  std::string_view query() const;
  // The value of query parameter `name` (not percent-decoded), if present.
  std::optional<std::string_view> queryParam(std::string_view name) const;
};

class WebSocketEndpoint;

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // With status 101: the endpoint that takes over the connection as a WebSocket
  // (include/duro/websocket.h).
  std::shared_ptr<WebSocketEndpoint> webSocket;

  // A response with a text/plain body.
  static Response text(std::string body, int status = 200);
  // A response with an application/json body (the caller provides serialized JSON).
  static Response json(std::string body, int status = 200);
};

// The standard reason phrase for an HTTP status ("Not Found"), or "" if unknown.
std::string_view reasonPhrase(int status);

}  // namespace duro
