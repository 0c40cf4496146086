#pragma once
// The hub's frame builder for tests that want real Action Cable frames (the hub itself knows no
// wire format: hub/frame_builder.hpp). Stateless, so one shared instance serves every test.
#include "session/action_cable_frames.hpp"

namespace cablecast::testing {

inline const session::ActionCableFrames kActionCableFrames;

}  // namespace cablecast::testing
