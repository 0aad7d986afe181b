//! Wire names of closed sets (enums), taken from their one definition: the serde attributes.
//!
//! An enum that travels as a string (`mode=process`, `"status": "in_progress"`) is declared
//! once with `#[serde(rename_all = …)]`; [`wire_enum!`](crate::wire_enum) then gives it
//! `as_str`, `Display`, `FromStr` and `ALL` that read their names from serde, so a query
//! parameter, a CLI flag, a SQL column and a JSON body can never spell a value differently.
//! Also home of the one lower-case hex encoder.

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde::de::value::{Error as ValueError, StrDeserializer};
use serde::ser::{self, Impossible};

/// A name that none of a closed set's values carries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{given}` (expected {expected})")]
pub struct UnknownName {
    /// What the set is ("mode", "order status").
    pub what: &'static str,
    /// The text that was given.
    pub given: String,
    /// The accepted names, as prose ("a, b or c").
    pub expected: String,
}

/// The serde name of a unit variant (after `rename_all` and `rename`).
///
/// # Panics
/// When `value` does not serialise as a unit variant: a programming error in a
/// [`wire_enum!`](crate::wire_enum) declaration, caught by any test that names the type.
pub fn name_of<T: Serialize>(value: &T) -> &'static str {
    match value.serialize(VariantName) {
        Ok(name) => name,
        Err(NotAUnitVariant) => panic!(
            "{} is not a unit-variant enum; wire_enum! fits only those",
            std::any::type_name::<T>()
        ),
    }
}

/// Parses a wire name through serde; the error lists the names of `all`.
pub fn parse<T: DeserializeOwned + Serialize>(
    what: &'static str,
    all: &[T],
    text: &str,
) -> Result<T, UnknownName> {
    let deserializer: StrDeserializer<'_, ValueError> = StrDeserializer::new(text);
    T::deserialize(deserializer).map_err(|_| UnknownName {
        what,
        given: text.to_owned(),
        expected: prose_list(all.iter().map(name_of)),
    })
}

/// "a", "a or b", "a, b or c".
fn prose_list<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.collect();
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// Gives a unit-variant enum with serde names its wire API: `ALL`, `as_str`, `Display`,
/// `FromStr` (error [`UnknownName`]). Every variant must be listed; the listing is checked
/// by an exhaustive match, so adding a variant without listing it does not compile.
///
/// ```
/// #[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
/// #[serde(rename_all = "snake_case")]
/// enum Light { Red, AmberFlashing }
/// model::wire_enum!(Light, "light", [Red, AmberFlashing]);
/// assert_eq!(Light::AmberFlashing.as_str(), "amber_flashing");
/// assert_eq!("red".parse::<Light>().unwrap().as_str(), "red");
/// assert_eq!(
///     "blue".parse::<Light>().unwrap_err().to_string(),
///     "unknown light `blue` (expected red or amber_flashing)"
/// );
/// ```
#[macro_export]
macro_rules! wire_enum {
    ($ty:ident, $what:literal, [$($variant:ident),+ $(,)?]) => {
        impl $ty {
            /// Every value, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The wire name, as serde writes it.
            pub fn as_str(self) -> &'static str {
                // Exhaustive: a variant missing from the list above is a compile error here.
                match self {
                    $($ty::$variant)|+ => $crate::wire::name_of(&self),
                }
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str((*self).as_str())
            }
        }

        impl ::std::str::FromStr for $ty {
            type Err = $crate::wire::UnknownName;
            fn from_str(text: &str) -> ::std::result::Result<Self, Self::Err> {
                $crate::wire::parse($what, $ty::ALL, text)
            }
        }
    };
}

/// Lower-case hexadecimal of bytes: the one encoder for digests, keys and pseudonyms.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 15)]));
    }
    out
}

/// A serializer that accepts only a unit variant and returns its name.
struct VariantName;

#[derive(Debug)]
struct NotAUnitVariant;

impl fmt::Display for NotAUnitVariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a unit variant")
    }
}

impl std::error::Error for NotAUnitVariant {}

impl ser::Error for NotAUnitVariant {
    fn custom<M: fmt::Display>(_: M) -> Self {
        NotAUnitVariant
    }
}

macro_rules! refuse {
    ($($method:ident($($arg:ty),*);)*) => {$(
        fn $method(self, $(_: $arg),*) -> Result<&'static str, NotAUnitVariant> {
            Err(NotAUnitVariant)
        }
    )*};
}

impl ser::Serializer for VariantName {
    type Ok = &'static str;
    type Error = NotAUnitVariant;
    type SerializeSeq = Impossible<&'static str, NotAUnitVariant>;
    type SerializeTuple = Impossible<&'static str, NotAUnitVariant>;
    type SerializeTupleStruct = Impossible<&'static str, NotAUnitVariant>;
    type SerializeTupleVariant = Impossible<&'static str, NotAUnitVariant>;
    type SerializeMap = Impossible<&'static str, NotAUnitVariant>;
    type SerializeStruct = Impossible<&'static str, NotAUnitVariant>;
    type SerializeStructVariant = Impossible<&'static str, NotAUnitVariant>;

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<&'static str, NotAUnitVariant> {
        Ok(variant)
    }

    refuse! {
        serialize_bool(bool);
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_u8(u8);
        serialize_u16(u16);
        serialize_u32(u32);
        serialize_u64(u64);
        serialize_f32(f32);
        serialize_f64(f64);
        serialize_char(char);
        serialize_str(&str);
        serialize_bytes(&[u8]);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(&'static str);
    }

    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<&'static str, Self::Error> {
        Err(NotAUnitVariant)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<&'static str, Self::Error> {
        Err(NotAUnitVariant)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<&'static str, Self::Error> {
        Err(NotAUnitVariant)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Self::Error> {
        Err(NotAUnitVariant)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Self::Error> {
        Err(NotAUnitVariant)
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Self::Error> {
        Err(NotAUnitVariant)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Self::Error> {
        Err(NotAUnitVariant)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Self::Error> {
        Err(NotAUnitVariant)
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, Self::Error> {
        Err(NotAUnitVariant)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Self::Error> {
        Err(NotAUnitVariant)
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Sample {
        One,
        InProgress,
        #[serde(rename = "x-3")]
        Three,
    }
    crate::wire_enum!(Sample, "sample", [One, InProgress, Three]);

    #[test]
    fn names_come_from_serde_both_ways() {
        for &value in Sample::ALL {
            let json = serde_json::to_string(&value).unwrap();
            assert_eq!(json, format!("\"{}\"", value.as_str()));
            assert_eq!(value.as_str().parse::<Sample>().unwrap(), value);
        }
        assert_eq!(Sample::Three.to_string(), "x-3");
    }

    #[test]
    fn an_unknown_name_lists_the_accepted_ones() {
        let err = "two".parse::<Sample>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown sample `two` (expected one, in_progress or x-3)"
        );
    }

    #[test]
    fn hex_is_lower_case_two_digits_a_byte() {
        assert_eq!(super::hex(&[0, 15, 16, 255]), "000f10ff");
        assert_eq!(super::hex(&[]), "");
    }
}
