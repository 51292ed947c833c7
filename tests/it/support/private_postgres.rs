//! A PostgreSQL server of one test's own (initdb into a temporary directory, a free port), for
//! tests that stop and start the server: the shared one at 127.0.0.1:5432 serves every other
//! test and must stay up. Uses the Debian/Ubuntu binaries under `/usr/lib/postgresql/*/bin`;
//! as root it runs them as the `postgres` user (initdb refuses root).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::replica_process::free_port;

pub struct PrivatePostgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

impl PrivatePostgres {
    /// A fresh server, started; `None` (said loudly) when this machine has no PostgreSQL
    /// binaries.
    pub fn start() -> Option<PrivatePostgres> {
        let Some(bin) = binaries() else {
            eprintln!("!!!!! SKIPPED: no PostgreSQL binaries under /usr/lib/postgresql/*/bin !!!!!");
            return None;
        };
        let dir = tempfile::tempdir().expect("a directory for the server");
        let data = dir.path().join("data");
        if is_root() {
            run(Command::new("chown").args(["postgres:postgres"]).arg(dir.path()));
        }
        run(as_postgres(&bin.join("initdb"))
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "-D"])
            .arg(&data));
        let server = PrivatePostgres {
            bin,
            data,
            port: free_port(),
            _dir: dir,
        };
        server.start_again();
        Some(server)
    }

    /// The URL of database `name` on this server.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Stops the server the way an administrator restarting it does (`pg_ctl stop -m fast`:
    /// open transactions are rolled back, connections closed).
    pub fn stop(&self) {
        run(as_postgres(&self.bin.join("pg_ctl"))
            .args(["stop", "-m", "fast", "-w", "-D"])
            .arg(&self.data));
    }

    /// Starts the server (again), waiting until it accepts connections.
    pub fn start_again(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            self.data.display()
        );
        run(as_postgres(&self.bin.join("pg_ctl"))
            .args(["start", "-w", "-t", "60", "-o", &options, "-l"])
            .arg(self.data.join("server.log"))
            .arg("-D")
            .arg(&self.data));
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        as_postgres(&self.bin.join("pg_ctl"))
            .args(["stop", "-m", "immediate", "-D"])
            .arg(&self.data)
            .output()
            .ok();
    }
}

fn binaries() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists() && bin.join("pg_ctl").exists())
        .collect();
    versions.sort();
    versions.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn as_postgres(program: &Path) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn run(command: &mut Command) {
    let output = command.output().expect("run a PostgreSQL command");
    assert!(
        output.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
