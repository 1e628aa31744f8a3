//! See the module map in the README.
