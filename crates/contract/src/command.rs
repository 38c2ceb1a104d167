//! Every Tauri command the shell answers, as a type: its name, what it takes and what it returns.
//!
//! Tauri passes a command's arguments as one JSON object keyed by the Rust function's parameter
//! names in camelCase (`fn set_language(language: Language)` reads `{"language": "en"}`). Each
//! command's [`Command::Args`] is that object: a struct whose fields are the parameters, in the
//! same order and with the same names; [`NoArgs`] for a command that takes none (its state
//! parameter is not an argument). A failed call carries a [`CommandError`](crate::CommandError).
//!
//! To add a command: write its `#[tauri::command]` function in the shell, register it there, and
//! add a line to [`commands!`](self) below (plus an `…Args` struct when it takes arguments).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::dto::*;

/// A command of the shell, as a type. The UI calls it with `Args` and gets `Output` back.
pub trait Command {
    /// The name the shell registers it under (the Rust function's name).
    const NAME: &'static str;
    /// The JSON object of the function's parameters, keyed in camelCase.
    type Args: Serialize + DeserializeOwned;
    /// What the function returns on success.
    type Output: Serialize + DeserializeOwned;
}

/// The arguments of a command that takes none: serialized as `{}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoArgs {}

/// [`SetLanguage`]'s arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetLanguageArgs {
    pub language: Language,
}

/// [`SignIn`]'s arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignInArgs {
    pub request: SignInRequest,
}

/// [`Roster`]'s arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RosterArgs {
    pub query: RosterQuery,
}

/// [`AddRecipient`]'s arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddRecipientArgs {
    pub draft: RecipientDraft,
}

/// Declares each command: a unit struct, its [`Command`] impl, and its name in [`ALL`].
macro_rules! commands {
    ($($(#[$meta:meta])* $command:ident = $name:literal ($args:ty) -> $output:ty;)+) => {
        $(
            $(#[$meta])*
            #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
            pub struct $command;

            impl Command for $command {
                const NAME: &'static str = $name;
                type Args = $args;
                type Output = $output;
            }
        )+

        /// Every command's name, in declaration order. The shell registers exactly these.
        pub const ALL: &[&str] = &[$($name),+];
    };
}

commands! {
    /// The language remembered from the last session.
    GetLanguage = "get_language" (NoArgs) -> Language;
    /// Remembers the language for the next start.
    SetLanguage = "set_language" (SetLanguageArgs) -> ();
    /// What the sign-in page shows before anyone signs in.
    SignInDefaults = "sign_in_defaults" (NoArgs) -> crate::dto::SignInDefaults;
    /// Signs in online (the first time on this device) or offline with the local database.
    SignIn = "sign_in" (SignInArgs) -> crate::dto::CurrentUser;
    SignOut = "sign_out" (NoArgs) -> ();
    /// The user signed in in the shell, if any (the webview may have been reloaded).
    CurrentUser = "current_user" (NoArgs) -> Option<crate::dto::CurrentUser>;
    /// The service points the user can see, each with its villages.
    ListVillages = "list_villages" (NoArgs) -> Vec<ServicePointOption>;
    /// One page of the roster.
    Roster = "roster" (RosterArgs) -> RosterPage;
    AddRecipient = "add_recipient" (AddRecipientArgs) -> AddedRecipient;
    SyncStatus = "sync_status" (NoArgs) -> SyncStatusView;
    /// Asks for a sync round now; returns the status as it is.
    SyncNow = "sync_now" (NoArgs) -> SyncStatusView;
    RejectedChanges = "rejected_changes" (NoArgs) -> Vec<RejectedChangeView>;
}

#[cfg(test)]
mod tests {
    use domain::recipient::RecipientCategory;
    use serde_json::{Value, json};
    use uuid::Uuid;

    use super::*;

    /// The JSON the shell reads for `args`, and that it reads back into the same value.
    fn check<C: Command>(args: C::Args, expected: Value)
    where
        C::Args: PartialEq + std::fmt::Debug,
    {
        let json = serde_json::to_value(&args).expect("serializes");
        assert_eq!(json, expected, "{}", C::NAME);
        let back: C::Args = serde_json::from_value(json).expect("deserializes");
        assert_eq!(back, args, "{}", C::NAME);
    }

    #[test]
    fn arguments_are_objects_keyed_by_the_parameter_names() {
        check::<GetLanguage>(NoArgs {}, json!({}));
        check::<SetLanguage>(SetLanguageArgs { language: Language::En }, json!({ "language": "en" }));
        check::<SignInDefaults>(NoArgs {}, json!({}));
        check::<SignIn>(
            SignInArgs {
                request: SignInRequest {
                    username: "shegong1".into(),
                    password: "pw".into(),
                    server_url: Some("http://127.0.0.1:7878".into()),
                },
            },
            json!({ "request": { "username": "shegong1", "password": "pw", "server_url": "http://127.0.0.1:7878" } }),
        );
        check::<SignOut>(NoArgs {}, json!({}));
        check::<CurrentUser>(NoArgs {}, json!({}));
        check::<ListVillages>(NoArgs {}, json!({}));
        check::<Roster>(
            RosterArgs {
                query: RosterQuery {
                    category: Some(RecipientCategory::Dibao),
                    village_id: None,
                    service_point_id: None,
                    search_kind: Some(SearchKind::IdSuffix),
                    search_text: "1234".into(),
                    page: 2,
                    page_size: 50,
                },
            },
            json!({ "query": {
                "category": "Dibao", "village_id": null, "service_point_id": null, "search_kind": "id_suffix",
                "search_text": "1234", "page": 2, "page_size": 50,
            } }),
        );
        let village = Uuid::from_u128(7);
        check::<AddRecipient>(
            AddRecipientArgs {
                draft: RecipientDraft {
                    name: "王测试".into(),
                    id_number: "440524195801010018".into(),
                    categories: vec![RecipientCategory::Dibao],
                    village_id: Some(village),
                    phone: String::new(),
                },
            },
            json!({ "draft": {
                "name": "王测试", "id_number": "440524195801010018", "categories": ["Dibao"],
                "village_id": village.to_string(), "phone": "",
            } }),
        );
        check::<SyncStatus>(NoArgs {}, json!({}));
        check::<SyncNow>(NoArgs {}, json!({}));
        check::<RejectedChanges>(NoArgs {}, json!({}));
    }

    #[test]
    fn every_command_is_listed_once_under_its_function_name() {
        let names = [
            GetLanguage::NAME,
            SetLanguage::NAME,
            SignInDefaults::NAME,
            SignIn::NAME,
            SignOut::NAME,
            CurrentUser::NAME,
            ListVillages::NAME,
            Roster::NAME,
            AddRecipient::NAME,
            SyncStatus::NAME,
            SyncNow::NAME,
            RejectedChanges::NAME,
        ];
        assert_eq!(ALL, names.as_slice());
        let mut unique = ALL.to_vec();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), ALL.len(), "a name is listed twice: {ALL:?}");
        for name in ALL {
            assert!(
                !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{name} is not a Rust function name in snake_case"
            );
        }
    }

    /// What commands without a value return (`()`) is JSON `null`, as Tauri sends it.
    #[test]
    fn results_without_a_value_read_from_null() {
        let unit = serde_json::from_value::<<SetLanguage as Command>::Output>(Value::Null);
        assert!(unit.is_ok(), "null reads as (): {unit:?}");
        let nobody: <CurrentUser as Command>::Output = serde_json::from_value(Value::Null).expect("null reads as None");
        assert_eq!(nobody, None);
    }
}
