//! The rolewright control plane.
