//! `nanots`: the command-line tool, a thin adapter over the library's public API.

mod args;
mod chart;
mod commands;
mod demo;
mod frames;
mod import;
mod output;
mod progress;
mod repl;
mod timefmt;

use std::fmt;
use std::io::{self, BufWriter, Write};

use args::{ArgError, Command, DbCmd};

/// A failure the user sees as one line: `Usage` exits with status 2, `Failed` with 1.
#[derive(Debug)]
pub enum CliError {
    Usage(String),
    Failed(String),
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(m) | CliError::Failed(m) => f.write_str(m),
        }
    }
}

impl From<nanots::Error> for CliError {
    fn from(e: nanots::Error) -> Self {
        CliError::Failed(e.to_string())
    }
}

impl From<io::Error> for CliError {
    fn from(e: io::Error) -> Self {
        CliError::Failed(e.to_string())
    }
}

fn run(cmd: Command) -> Result<i32, CliError> {
    match cmd {
        Command::Db {
            dir,
            new_db,
            cmd: DbCmd::Repl,
        } => commands::run_db_cmd(&dir, &new_db, DbCmd::Repl, &mut io::sink()),
        Command::Db { dir, new_db, cmd } => {
            let stdout = io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            let code = commands::run_db_cmd(&dir, &new_db, cmd, &mut out)?;
            out.flush()?;
            Ok(code)
        }
        Command::Frames(f) => {
            let stdout = io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            let code = frames::run(f, &mut out)?;
            out.flush()?;
            Ok(code)
        }
        Command::Demo { dir } => {
            let stdout = io::stdout();
            let mut out = stdout.lock();
            demo::run(dir, &mut out)
        }
    }
}

fn main() {
    // Rust ignores SIGPIPE, which turns `nanots db export x | head` into a write error; the
    // default action ends the process quietly, as other command-line tools do.
    // SAFETY: setting a signal disposition to SIG_DFL before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let code = match args::parse_args(&args) {
        Err(ArgError::Help(text)) => {
            println!("{text}");
            0
        }
        Err(ArgError::Usage { message, usage }) => {
            eprintln!("error: {message}\n\n{usage}");
            2
        }
        Ok(cmd) => match run(cmd) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e}");
                match e {
                    CliError::Usage(_) => 2,
                    CliError::Failed(_) => 1,
                }
            }
        },
    };
    std::process::exit(code);
}
