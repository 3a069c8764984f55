//! One module per subcommand; each has `Args` and `run(args) -> exit code`.

pub mod alertmanager;
pub mod alertmanager_diff;
pub mod backtest;
pub mod bench;
pub mod deploy;
pub mod effective;
pub mod explain_route;
pub mod init;
pub mod inspect_tenant;
pub mod lab;
pub mod man;
pub mod migrate;
pub mod rules;
pub mod scenario;
pub mod schema;
pub mod shell_completions;
pub mod tenant;
pub mod validate;
pub mod verify_threshold;
