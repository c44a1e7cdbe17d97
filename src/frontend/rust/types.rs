//! Rust types as the analysis sees them ([`TypeRef`]): `*mut
//! bindings::vm_fault` and `&mut bindings::vm_fault` are `{vm_fault, 1}`,
//! like C `struct vm_fault *`.

use crate::ir::TypeRef;
use syn::Type;

/// Deeper nesting than this is not followed (the base stays empty).
const MAX_PTR: u8 = 8;

pub fn type_ref(t: &Type) -> TypeRef {
    let mut ptr = 0u8;
    let mut t = t;
    loop {
        match t {
            Type::Ptr(p) if ptr < MAX_PTR => {
                ptr += 1;
                t = &p.elem;
            }
            Type::Reference(r) if ptr < MAX_PTR => {
                ptr += 1;
                t = &r.elem;
            }
            Type::Paren(p) => t = &p.elem,
            Type::Group(g) => t = &g.elem,
            Type::Path(p) => {
                let base = p
                    .path
                    .segments
                    .last()
                    .map(|s| s.ident.to_string())
                    .unwrap_or_default();
                return TypeRef { base, ptr };
            }
            _ => {
                return TypeRef {
                    base: String::new(),
                    ptr,
                }
            }
        }
    }
}
