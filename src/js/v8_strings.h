// Conversions between std::string and V8 strings, shared by the files of this folder.
#pragma once

#include <string>
#include <string_view>

#include <v8.h>

namespace duro::js {

// A V8 string with `text` (UTF-8). Aborts only if V8 cannot allocate it.
inline v8::Local<v8::String> str(v8::Isolate* isolate, std::string_view text) {
  return v8::String::NewFromUtf8(isolate, text.data(), v8::NewStringType::kNormal,
                                 static_cast<int>(text.size()))
      .ToLocalChecked();
}

// `value` converted to a string, as UTF-8 ("" if the conversion threw).
inline std::string toStdString(v8::Isolate* isolate, v8::Local<v8::Value> value) {
  v8::String::Utf8Value utf8(isolate, value);
  return *utf8 ? std::string(*utf8, utf8.length()) : std::string();
}

}  // namespace duro::js
