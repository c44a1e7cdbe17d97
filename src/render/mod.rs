//! Renderers: diagnostics → bytes.
