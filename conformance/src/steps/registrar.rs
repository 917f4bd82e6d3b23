//! Steps of the registrar features.

use super::StepFn;

pub const STEPS: &[(&str, StepFn)] = &[];
