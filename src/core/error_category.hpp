#pragma once
// The error category every module's typed errors share (protocol::Error, rpc::Error, JwtError,
// ...): a name and one message per enum value, so a module writes only those. The module still
// declares `make_error_code` and the `is_error_code_enum` specialisation next to its enum: ADL and
// boost::system::result's implicit conversion look for them there.
//
//   const char* describe(HistoryError e) {
//     switch (e) {  // a switch, not a table: -Wswitch (an error here) names a value left out
//       case HistoryError::unknown_stream:
//         return "unknown stream";
//       ...
//     }
//     return nullptr;  // a value outside the enum
//   }
//   const boost::system::error_category& history_category() {
//     static const core::ErrorCategory<HistoryError, describe> category(
//         "history", "history error");
//     return category;
//   }
#include <boost/system/error_category.hpp>
#include <string>

namespace cablecast::core {

// Boost's error_category has a protected non-virtual destructor by design (categories are
// never deleted through a base pointer); g++'s -Wnon-virtual-dtor does not know that.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
template <typename Enum, const char* (*Describe)(Enum)>
class ErrorCategory final : public boost::system::error_category {
 public:
  // `name` is a string literal (the category keeps the pointer). A value Describe does not
  // know reads "unknown <noun> <value>", e.g. "unknown protocol error 99".
  constexpr ErrorCategory(const char* name, const char* unknown_noun) noexcept
      : name_(name), unknown_noun_(unknown_noun) {}

  const char* name() const noexcept override { return name_; }

  std::string message(int value) const override {
    if (const char* text = Describe(static_cast<Enum>(value))) return text;
    return "unknown " + std::string(unknown_noun_) + " " + std::to_string(value);
  }

 private:
  const char* name_;
  const char* unknown_noun_;
};
#pragma GCC diagnostic pop

}  // namespace cablecast::core
