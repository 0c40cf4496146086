#pragma once
// One copy per loop of each subscription identifier in use. Subscribers of one channel with
// the same params send the same identifier text (a chat room's members, a dashboard's viewers,
// every user of a NotificationsChannel that streams for current_user): a copy per subscription
// was 96 B of every idle connection (a 32-B string plus its 64-B heap block, issue 12), a
// handle is 8 B. A distinct identifier costs one node (its text and a count) plus a hash-set
// entry, about what the copy cost.
//
// Loop-local: a pool and its handles are used on one thread only (the loop's), so the count
// is a plain integer. The pool must outlive its handles (the loop owns it and destroys its
// sessions first); asserted in the destructor.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>

namespace cablecast::session {

class IdentifierPool;

// A shared, immutable identifier text: copying shares it, the last handle gone frees it.
class PooledIdentifier {
 public:
  PooledIdentifier() = default;
  PooledIdentifier(const PooledIdentifier& other) noexcept : node_(other.node_) { retain(); }
  PooledIdentifier(PooledIdentifier&& other) noexcept
      : node_(std::exchange(other.node_, nullptr)) {}
  PooledIdentifier& operator=(PooledIdentifier other) noexcept {
    std::swap(node_, other.node_);
    return *this;
  }
  ~PooledIdentifier() { release(); }

  // Empty for a default-constructed handle.
  const std::string& str() const;
  std::string_view view() const { return str(); }

 private:
  friend class IdentifierPool;
  struct Node {
    std::string text;
    std::uint32_t refs = 0;
    IdentifierPool* pool = nullptr;
  };
  explicit PooledIdentifier(Node* node) noexcept : node_(node) { retain(); }
  void retain() const noexcept {
    if (node_) ++node_->refs;
  }
  void release() noexcept;

  Node* node_ = nullptr;
};

class IdentifierPool {
 public:
  IdentifierPool() = default;
  IdentifierPool(const IdentifierPool&) = delete;
  IdentifierPool& operator=(const IdentifierPool&) = delete;
  ~IdentifierPool();

  // The pool's copy of `text`, made if it has none.
  PooledIdentifier intern(std::string_view text);
  // Distinct identifiers held (for tests and metrics).
  std::size_t size() const { return nodes_.size(); }

 private:
  friend class PooledIdentifier;
  using Node = PooledIdentifier::Node;
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept {
      return std::hash<std::string_view>{}(text);
    }
    std::size_t operator()(const Node* node) const noexcept { return (*this)(node->text); }
  };
  struct Equal {
    using is_transparent = void;
    static std::string_view text(std::string_view s) { return s; }
    static std::string_view text(const Node* node) { return node->text; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const noexcept {
      return text(a) == text(b);
    }
  };
  void erase(Node* node) noexcept;

  std::unordered_set<Node*, Hash, Equal> nodes_;
};

}  // namespace cablecast::session
