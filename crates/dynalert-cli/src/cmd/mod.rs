//! One module per subcommand; each has `Args` and `run(args) -> exit code`.

pub mod alertmanager;
pub mod alertmanager_diff;
pub mod bench;
pub mod effective;
pub mod explain_route;
pub mod inspect_tenant;
pub mod lab;
pub mod rules;
pub mod scenario;
pub mod schema;
pub mod validate;
pub mod verify_threshold;
