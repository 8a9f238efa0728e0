//! One module per subcommand family.
pub mod init;
pub mod rules;
pub mod scan;
