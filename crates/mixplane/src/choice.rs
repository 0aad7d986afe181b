//! Closed choices on the command line, read straight into the domain's own enums.
//!
//! The domain's enums (`model::wire_enum!`) already know their wire names and parse them; a
//! [`Choice`] hands those names to clap, so `--help` lists them, completions offer them and a
//! wrong value is refused by clap naming the choices — without a second copy of the enum in
//! the binary that could drift from the domain's.

use std::marker::PhantomData;

use clap::builder::{PossibleValue, TypedValueParser};

/// An enum whose every value has a wire name.
pub trait Choice: Copy + Send + Sync + 'static {
    /// Every value, in declaration order.
    fn all() -> &'static [Self];
    /// The wire name of a value.
    fn name(self) -> &'static str;
}

macro_rules! choices {
    ($($ty:ty),+ $(,)?) => {
        $(impl Choice for $ty {
            fn all() -> &'static [Self] {
                &<$ty>::ALL
            }
            fn name(self) -> &'static str {
                self.as_str()
            }
        })+
    };
}

choices!(
    govern::Role,
    govern::PrincipalKind,
    govern::Status,
    govern::ActionKind,
    app::SinkKind,
    quality::nc::NcState,
    quality::enforce::ItemKind,
    schedule::plant::Preset,
    schedule::plant::scenario::ScenarioKind,
);

/// clap's parser of a [`Choice`]: `value_parser = choice::of::<T>()`.
#[derive(Debug)]
pub struct Parser<T>(PhantomData<T>);

impl<T> Clone for Parser<T> {
    fn clone(&self) -> Self {
        Parser(PhantomData)
    }
}

/// The parser of `T`'s wire names.
pub fn of<T: Choice>() -> Parser<T> {
    Parser(PhantomData)
}

impl<T: Choice> TypedValueParser for Parser<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        let text = value.to_str().unwrap_or_default();
        if let Some(found) = T::all().iter().find(|v| v.name() == text) {
            return Ok(*found);
        }
        // clap's own message: names the argument, the value and the possible values.
        let names: Vec<&str> = T::all().iter().map(|v| v.name()).collect();
        let mut error = clap::Error::new(clap::error::ErrorKind::InvalidValue).with_cmd(cmd);
        use clap::error::{ContextKind, ContextValue};
        if let Some(arg) = arg {
            error.insert(
                ContextKind::InvalidArg,
                ContextValue::String(arg.to_string()),
            );
        }
        error.insert(
            ContextKind::InvalidValue,
            ContextValue::String(text.to_owned()),
        );
        error.insert(
            ContextKind::ValidValue,
            ContextValue::Strings(names.iter().map(|n| (*n).to_owned()).collect()),
        );
        Err(error)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            T::all().iter().map(|v| PossibleValue::new(v.name())),
        ))
    }
}
