//! One module per subcommand family.
pub mod docs;
pub mod init;
pub mod merge;
pub mod rules;
pub mod scan;
