#pragma once
// ${VAR} and ${VAR:-default} in a configuration text, replaced from the
// environment, as the original does in etc/infra.yaml. No yaml-cpp here: the rule
// is a pure function, tested on its own, that any loader can call.

#include <string>
#include <string_view>

namespace appinfra::db::detail {

/// What substitute_env() made of a text. On failure `error` says why without
/// quoting the text, which may hold a secret (a password in a URL); a variable's
/// name is shown, never its value.
struct Substituted {
  std::string text;
  std::string error;     ///< empty on success
  bool changed = false;  ///< a ${...} or $$ was replaced: the text is no longer as written
};

inline bool is_env_name(std::string_view name) noexcept {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

/// Replaces, in `in`:
///   ${NAME}          the variable's value; unset is an error (set but empty gives "")
///   ${NAME:-default} its value when set and not empty, else `default` (taken as
///                    written: no ${...} inside it, no '}')
///   $$               a literal '$'
/// Any other '$' is kept as written, so that an existing password holding a '$'
/// keeps working. `getenv` is called with a NUL-terminated name and returns a
/// `const char*`, null when unset (std::getenv; tests pass their own).
template <class Getenv>
Substituted substitute_env(std::string_view in, Getenv&& getenv) {
  Substituted out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '$' || i + 1 == in.size() || (in[i + 1] != '$' && in[i + 1] != '{')) {
      out.text += in[i];
      continue;
    }
    out.changed = true;
    if (in[i + 1] == '$') {
      out.text += '$';
      ++i;
      continue;
    }
    const std::size_t close = in.find('}', i + 2);
    if (close == std::string_view::npos) {
      out.error = "a '${' has no closing '}' (write $$ for a literal '$')";
      return out;
    }
    const std::string_view body = in.substr(i + 2, close - i - 2);
    const std::size_t dash = body.find(":-");
    const std::string name(body.substr(0, dash));
    if (!is_env_name(name)) {
      out.error = "a '${...}' does not name an environment variable (letters, digits and '_'; "
                  "write $$ for a literal '$')";
      return out;
    }
    const char* value = getenv(name.c_str());
    if (dash != std::string_view::npos) {
      if (value != nullptr && *value != '\0') out.text += value;
      else out.text += body.substr(dash + 2);
    } else if (value != nullptr) {
      out.text += value;
    } else {
      out.error = "environment variable '" + name + "' is not set (write ${" + name +
                  ":-default} to give a default)";
      return out;
    }
    i = close;
  }
  return out;
}

}  // namespace appinfra::db::detail
