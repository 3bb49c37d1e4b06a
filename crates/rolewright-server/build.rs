//! Embeds the AWS managed policy documents of `data/managed-policies/` into the library.

include!("../../build-support/embed_json.rs");

fn main() {
    embed_json_files(
        "data/managed-policies",
        "managed.rs",
        "The AWS managed policy files",
    );
}
