//! Policy documents and the rules around them: parsing, the meaning-preserving normal form
//! used to compare documents, minification for sending, statement-level diffs, the limits
//! table per policy type, and the ownership marker guardrail leaves on the policies it creates.
//!
//! Architecture invariant: pure. No IO, no AWS, no clock. Imports only `model`.

pub mod compile;
pub mod denies;
pub mod doc;
pub mod effective;
pub mod eval;
pub mod iam;
pub mod limits;
pub mod lint;
pub mod marker;
pub mod reason;
pub mod template;
mod template_docs;
