//! The databases the store's tests run against: a fresh SQLite data directory, or a fresh
//! database on a throwaway PostgreSQL cluster (`rolewright-pgtest`) of the test's own.
#![allow(dead_code, reason = "each test file uses some of these")]

use std::path::PathBuf;

use rolewright_server::master_key::MasterKey;
use rolewright_server::store::{Database, Store, StoreError};

/// A fresh database for one test.
pub enum Db {
    /// A data directory.
    Sqlite(PathBuf),
    /// A database on a cluster of this test's own (stopped when dropped).
    Postgres {
        cluster: rolewright_pgtest::Cluster,
        url: String,
        name: String,
    },
}

/// A fresh SQLite data directory.
pub fn sqlite(test: &str) -> Db {
    let dir = std::env::temp_dir().join(format!(
        "rolewright-store-{test}-{}-{:?}",
        std::process::id(),
        std::time::SystemTime::now()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    Db::Sqlite(dir)
}

/// A fresh PostgreSQL database, or `None` (said loudly) where PostgreSQL is not installed.
pub fn postgres(test: &str) -> Option<Db> {
    let cluster = rolewright_pgtest::Cluster::start_or_skip(test)?;
    let url = cluster.new_database().unwrap();
    let name = url.rsplit('/').next().unwrap().to_string();
    Some(Db::Postgres { cluster, url, name })
}

impl Db {
    /// The `--database-url` of this database.
    pub fn database(&self) -> Database {
        match self {
            Db::Sqlite(dir) => Database::Sqlite(dir.clone()),
            Db::Postgres { url, .. } => Database::Postgres(url.clone()),
        }
    }

    /// How the store's messages name it.
    pub fn shown(&self) -> String {
        match self {
            Db::Sqlite(dir) => dir
                .join(rolewright_server::store::DB_FILE)
                .display()
                .to_string(),
            Db::Postgres { url, .. } => url.clone(),
        }
    }

    /// Opens a store on it.
    pub async fn open(&self, account: &str, key: MasterKey) -> Result<Store, StoreError> {
        Store::open_database(&self.database(), account, key).await
    }

    /// The cluster, for a PostgreSQL database.
    pub fn cluster(&self) -> Option<&rolewright_pgtest::Cluster> {
        match self {
            Db::Sqlite(_) => None,
            Db::Postgres { cluster, .. } => Some(cluster),
        }
    }
}

/// A runtime for one test (current-thread: the store's background tasks run while it blocks).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Runs the test function `$test(Db)` on SQLite (`$test::sqlite`) and on PostgreSQL
/// (`$test::postgres`, with the `postgres` feature).
#[macro_export]
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {$(
        mod $test {
            #[test]
            fn sqlite() {
                super::$test(super::backend::sqlite(stringify!($test)));
            }

            #[cfg(feature = "postgres")]
            #[test]
            fn postgres() {
                if let Some(db) = super::backend::postgres(stringify!($test)) {
                    super::$test(db);
                }
            }
        }
    )*};
}
