//! One module per subcommand; each has `Args` and `run(args) -> exit code`.

pub mod effective;
pub mod rules;
pub mod schema;
pub mod validate;
