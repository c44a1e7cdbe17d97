//! tree-sitter-c field ids, looked up once: `child_by_field_name` scans
//! the grammar's field names with `strncmp` on every call, which showed up
//! in profiles of whole-tree runs.

use std::num::NonZeroU16;
use std::sync::OnceLock;

macro_rules! fields {
    ($($f:ident = $name:literal),* $(,)?) => {
        struct Ids { $($f: NonZeroU16,)* }

        fn ids() -> &'static Ids {
            static IDS: OnceLock<Ids> = OnceLock::new();
            IDS.get_or_init(|| {
                let lang: tree_sitter::Language = tree_sitter_c::LANGUAGE.into();
                let id = |name: &str| {
                    lang.field_id_for_name(name)
                        .unwrap_or_else(|| panic!("tree-sitter-c has no field `{name}`"))
                };
                Ids { $($f: id($name),)* }
            })
        }

        $(
            #[doc = concat!("The id of the `", $name, "` field.")]
            pub fn $f() -> NonZeroU16 {
                ids().$f
            }
        )*
    };
}

fields! {
    alternative = "alternative",
    argument = "argument",
    arguments = "arguments",
    body = "body",
    condition = "condition",
    consequence = "consequence",
    declarator = "declarator",
    function = "function",
    initializer = "initializer",
    label = "label",
    left = "left",
    name = "name",
    operator = "operator",
    parameters = "parameters",
    right = "right",
    ty = "type",
    update = "update",
    value = "value",
    designator = "designator",
}
