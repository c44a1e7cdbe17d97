//! Path-sensitive lock analysis.
