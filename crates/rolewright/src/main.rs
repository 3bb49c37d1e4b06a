//! rolewright CLI
fn main() {}
