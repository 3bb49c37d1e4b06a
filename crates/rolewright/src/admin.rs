//! `rolewright admin`: the operator's commands around the control plane's master key and the
//! bootstrap administrator's credentials.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use rolewright_server::master_key::MasterKey;

use crate::exit;

/// `rolewright admin ...`.
#[derive(Subcommand)]
pub enum AdminCommand {
    /// Print a new random master key: 64 hexadecimal characters and a newline, for `rolewright
    /// serve --master-key-file`.
    #[command(
        long_about = "Print a new random master key: 64 hexadecimal characters (32 bytes \
        from the operating system's random source) and a newline, for `rolewright serve \
        --master-key-file`.\n\n\
        Write it to a file only you can read, and keep a copy: the secrets a server stores \
        cannot be read without the key they were sealed with.\n\n  \
        (umask 077; rolewright admin new-master-key > master.key)\n  \
        rolewright serve --master-key-file master.key"
    )]
    NewMasterKey,
    /// Print the bootstrap administrator's access key again, in the shared-credentials format
    /// of DATA_DIR/credentials (profile `rolewright`), read from the database with the master
    /// key.
    ///
    /// For an operator who has the master key but lost the credentials file, or runs the server
    /// on another machine. The output holds a secret access key: redirect it to a file only you
    /// can read. Works while the server runs.
    Credentials(CredentialsArgs),
}

/// Arguments of `rolewright admin credentials`.
#[derive(Args)]
pub struct CredentialsArgs {
    /// The server's data directory.
    #[arg(long, default_value = "./rolewright-data")]
    data_dir: PathBuf,
    /// The server's database instead: `sqlite:DIR` or `postgres://USER@HOST:PORT/DATABASE`
    /// (which needs --master-key-file).
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// The master key file the server was started with (`rolewright serve --master-key-file`);
    /// DATA_DIR/master.key when not given.
    #[arg(long, value_name = "FILE")]
    master_key_file: Option<PathBuf>,
}

/// Runs an admin command.
pub fn run(command: &AdminCommand) -> u8 {
    match command {
        AdminCommand::NewMasterKey => match MasterKey::generate() {
            Ok(key) => {
                println!("{}", key.to_hex());
                exit::OK
            }
            Err(e) => {
                eprintln!("error: {e}");
                exit::ERROR
            }
        },
        AdminCommand::Credentials(args) => {
            let database = match crate::serve::parse_database(args.database_url.as_deref()) {
                Ok(d) => d,
                Err(code) => return code,
            };
            let text = match &database {
                None => rolewright_server::admin_credentials(
                    &args.data_dir,
                    args.master_key_file.as_deref(),
                ),
                Some(database) => match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime.block_on(rolewright_server::admin_credentials_of(
                        database,
                        args.master_key_file.as_deref(),
                    )),
                    Err(e) => {
                        eprintln!("error: cannot start the runtime: {e}");
                        return exit::ERROR;
                    }
                },
            };
            match text {
                Ok(text) => {
                    print!("{text}");
                    exit::OK
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    exit::ERROR
                }
            }
        }
    }
}
