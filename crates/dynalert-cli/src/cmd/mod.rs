//! One module per subcommand; each has `Args` and `run(args) -> exit code`.

pub mod alertmanager;
pub mod effective;
pub mod explain_route;
pub mod rules;
pub mod schema;
pub mod validate;
