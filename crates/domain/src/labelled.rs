//! Closed vocabularies (categories, stages, service types...) as enums that carry their stored
//! name and their Chinese and English labels, so SQL, the wire and the UI all use one spelling.

/// An enum value with a stable stored name and labels for the UI.
pub trait Labelled: Sized + Copy + 'static {
    /// Every value, in display order.
    const ALL: &'static [Self];
    /// The stored and wire name, e.g. `"LeftBehindChild"`. Never changes once released.
    fn as_str(self) -> &'static str;
    fn zh(self) -> &'static str;
    fn en(self) -> &'static str;
    fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.as_str() == s)
    }
    /// The stored names of every value, as the field specs list them.
    fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|v| v.as_str()).collect()
    }
}

/// Declares a [`Labelled`] enum: `Variant => "中文", "English"`.
/// The stored name is the variant's own name.
macro_rules! labelled_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident => $zh:literal, $en:literal),+ $(,)? }
     names = $names:ident;) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        $vis enum $name { $($(#[$vmeta])* $variant),+ }

        /// The stored names of every value, for field specs.
        $vis const $names: &[&str] = &[$(stringify!($variant)),+];

        impl $crate::labelled::Labelled for $name {
            const ALL: &'static [Self] = &[$(Self::$variant),+];
            fn as_str(self) -> &'static str {
                match self { $(Self::$variant => stringify!($variant)),+ }
            }
            fn zh(self) -> &'static str {
                match self { $(Self::$variant => $zh),+ }
            }
            fn en(self) -> &'static str {
                match self { $(Self::$variant => $en),+ }
            }
        }
    };
}
