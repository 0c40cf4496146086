#include "session/identifier_pool.hpp"

#include <memory>

#include "core/assert.hpp"

namespace cablecast::session {

const std::string& PooledIdentifier::str() const {
  static const std::string empty;
  return node_ ? node_->text : empty;
}

void PooledIdentifier::release() noexcept {
  if (node_ && --node_->refs == 0) node_->pool->erase(node_);
  node_ = nullptr;
}

IdentifierPool::~IdentifierPool() {
  // Every handle belongs to a session of this loop, destroyed before the loop's pool.
  CABLE_ASSERT(nodes_.empty());
  for (Node* node : nodes_) delete node;  // release builds: no leak, handles left dangle
}

PooledIdentifier IdentifierPool::intern(std::string_view text) {
  if (auto found = nodes_.find(text); found != nodes_.end()) return PooledIdentifier(*found);
  auto node = std::make_unique<Node>(Node{std::string(text), 0, this});
  nodes_.insert(node.get());
  return PooledIdentifier(node.release());
}

void IdentifierPool::erase(Node* node) noexcept {
  nodes_.erase(node);
  delete node;
}

}  // namespace cablecast::session
