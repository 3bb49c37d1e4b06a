//! Embeds every activity file of `activities/` into the library, so the binary carries the
//! catalog and adding an activity is adding a file.

include!("../../build-support/embed_json.rs");

fn main() {
    embed_json_files("activities", "embedded.rs", "The built-in activity files");
}
