#pragma once
// Removing one database's passwords from any text a message or a log line shows.

#include <appinfra/db/detail/literal_secrets.hpp>
#include <appinfra/db/url.hpp>

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace appinfra::db::detail {

/// Removes a database's passwords from a text (a library's or the server's message,
/// a statement): its whole url (replaced by the redacted url), URL credentials and
/// password=... pairs (Url::redact), and every password of the url itself, decoded
/// and as written, when it has at least `min_literal` characters (LiteralSecrets:
/// the rule Url::redacted() applies too).
/// Value type; const members may be called from several threads at once. A
/// redactor made learning() also removes the secrets it learn()s later (the passwords
/// a password_file gave), and so do its copies: they share what was learnt.
class Redactor {
 public:
  static constexpr std::size_t min_literal = LiteralSecrets::min_size;

  Redactor() = default;
  explicit Redactor(const Url& url) : url_text_(url.text()), url_redacted_(url.redacted()) {
    for (auto& s : url.secrets()) literals_.add(std::move(s));
  }
  /// A redactor of one literal secret (no url).
  static Redactor of_password(std::string password) {
    Redactor r;
    r.literals_.add(std::move(password));
    return r;
  }

  /// This redactor, able to learn secrets after it is made (learn()).
  [[nodiscard]] Redactor learning() const {
    Redactor r = *this;
    if (!r.learnt_) r.learnt_ = std::make_shared<Learnt>();
    return r;
  }
  /// Adds a secret known only now (a password read from a password_file), for this
  /// redactor and every copy of it; ignored by one not made learning(). Thread-safe.
  void learn(std::string secret) const {
    if (!learnt_) return;
    std::lock_guard lock(learnt_->mutex);
    learnt_->secrets.add(std::move(secret));
  }

  [[nodiscard]] std::string operator()(std::string_view text) const {
    std::string out(text);
    if (!url_text_.empty())
      for (std::size_t p = 0; (p = out.find(url_text_, p)) != std::string::npos; p += url_redacted_.size())
        out.replace(p, url_text_.size(), url_redacted_);
    out = Url::redact(out);
    literals_.remove_from(out);
    if (learnt_) {
      std::lock_guard lock(learnt_->mutex);
      learnt_->secrets.remove_from(out);
    }
    return out;
  }

  /// True when this redactor removes nothing but what Url::redact() does.
  [[nodiscard]] bool empty() const noexcept { return url_text_.empty() && literals_.empty() && !learnt_; }

 private:
  struct Learnt {
    std::mutex mutex;
    LiteralSecrets secrets;
  };

  std::string url_text_, url_redacted_;
  LiteralSecrets literals_;
  std::shared_ptr<Learnt> learnt_;  // null unless learning()
};

}  // namespace appinfra::db::detail
