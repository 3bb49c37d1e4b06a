//! Load generator for `rolewright serve`.
fn main() {}
