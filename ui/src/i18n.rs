//! The UI's words in Chinese (the default) and English. Labels of domain vocabularies (categories,
//! roles, field names) come from `domain` itself, so the UI and the error messages agree.

use contract::{Language, sentence};
use domain::Labelled;
use domain::entity::FieldSpec;

macro_rules! texts {
    ($($key:ident => $zh:literal, $en:literal;)+) => {
        /// A piece of the UI's text.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Text { $($key),+ }

        impl Text {
            pub fn get(self, language: Language) -> &'static str {
                match (self, language) {
                    $((Text::$key, Language::Zh) => $zh, (Text::$key, Language::En) => $en,)+
                }
            }
        }
    };
}

texts! {
    AppSubtitle => "社工站服务对象与个案管理", "Case management for township social work stations";
    SwitchLanguage => "English", "中文";
    SwitchLanguageHint => "Switch to English", "切换到中文";
    SignInTitle => "登录", "Sign in";
    Username => "用户名", "Username";
    Password => "密码", "Password";
    ServerUrl => "同步服务器地址", "Sync server address";
    ServerUrlHint => "仅在本机首次登录时使用；之后可离线登录。", "Used only for the first sign-in on this computer; after that you can sign in offline.";
    SignInButton => "登录", "Sign in";
    LocalUsers => "可在本机离线登录的账户：", "Can sign in offline on this computer: ";
    SigningIn => "正在登录…", "Signing in…";
    SignOut => "退出登录", "Sign out";
    NavRoster => "服务对象花名册", "Roster";
    NavAddRecipient => "新增服务对象", "Add recipient";
    RosterTitle => "服务对象花名册", "Roster of recipients";
    FilterCategory => "对象类别", "Category";
    AllCategories => "全部类别", "All categories";
    FilterVillage => "村(社区)/社工点", "Village / service point";
    AllVillages => "全部村(社区)", "All villages";
    WholeServicePoint => "（整个社工点）", "(whole service point)";
    SearchBy => "查找方式", "Search by";
    SearchByName => "姓名或拼音首字母", "Name or pinyin initials";
    SearchByIdSuffix => "身份证号末几位", "End of ID number";
    SearchByPhone => "手机号", "Mobile number";
    SearchFor => "查找内容", "Search for";
    SearchButton => "查找", "Search";
    ClearFilters => "清除条件", "Clear";
    ColumnName => "姓名", "Name";
    ColumnGender => "性别", "Gender";
    ColumnAge => "年龄", "Age";
    ColumnCategories => "对象类别", "Categories";
    ColumnVillage => "村(社区)", "Village";
    ColumnPhone => "手机号", "Mobile";
    ColumnIdTail => "身份证尾号", "ID ends";
    YearsOld => "岁", "";
    NoRecipients => "没有符合条件的服务对象。", "No recipients match.";
    Loading => "正在加载…", "Loading…";
    Retry => "重试", "Try again";
    PreviousPage => "上一页", "Previous";
    NextPage => "下一页", "Next";
    PageLabel => "第", "Page";
    PageSuffix => "页", "";
    AddRecipientTitle => "新增服务对象", "Add a recipient";
    AddRecipientHint => "性别和出生日期根据身份证号自动填写。", "Gender and date of birth are read from the ID number.";
    Choose => "请选择", "Choose the ";
    DatePlaceholder => "年-月-日", "YYYY-MM-DD";
    Optional => "（选填）", " (optional)";
    Save => "保存", "Save";
    Saving => "正在保存…", "Saving…";
    Cancel => "取消", "Cancel";
    FromIdNumber => "根据身份证号：", "From the ID number: ";
    Saved => "已保存服务对象", "Saved recipient";
    FixErrors => "请修改标出的内容后再保存。", "Please correct the marked fields and save again.";
    SyncStatus => "同步状态", "Sync status";
    Online => "在线", "Online";
    Offline => "离线", "Offline";
    Syncing => "正在同步", "Syncing";
    LastSync => "上次同步", "Last sync";
    Never => "尚未同步", "never";
    Pending => "待上传", "Waiting to send";
    Rejected => "被退回", "Rejected";
    Conflicts => "待处理冲突", "Open conflicts";
    PullProgress => "下载进度", "Download";
    SyncNow => "立即同步", "Sync now";
    NotSignedIn => "未登录", "Not signed in";
    RejectedTitle => "被服务器退回的修改", "Changes the server rejected";
    RejectedHint => "这些修改已在本机撤销，原内容和原因保存在这里。", "These changes were undone on this computer; what was written and why it was refused are kept here.";
    NoRejected => "没有被退回的修改。", "No rejected changes.";
    Reason => "原因", "Reason";
    Record => "记录", "Record";
    RecordedAt => "时间", "When";
    Back => "返回", "Back";
    NotFoundTitle => "找不到这个页面", "There is no such page";
    NotFoundHint => "这个地址没有对应的页面。", "Nothing is shown at this address.";
    BackToStart => "回到首页", "Back to the start";
}

/// A field's label from its spec, in the UI's language (English labels capitalized).
pub fn field_label(spec: &FieldSpec, language: Language) -> String {
    match language {
        Language::Zh => spec.zh.to_string(),
        Language::En => sentence(spec.en),
    }
}

/// A vocabulary value's label (a category, a gender, a role) in the UI's language.
pub fn label<T: Labelled>(value: T, language: Language) -> &'static str {
    match language {
        Language::Zh => value.zh(),
        Language::En => value.en(),
    }
}

/// The label of a value of a closed vocabulary, given the vocabulary's stored names as a field
/// spec lists them (`FieldType::Enum(GENDER_NAMES)`); `None` for a vocabulary not listed here.
pub fn vocabulary_label(names: &[&str], value: &str, language: Language) -> Option<&'static str> {
    use domain::case::*;
    use domain::entity::EntityKind;
    use domain::org::{Post, RoleKind};
    use domain::recipient::{Gender, HouseholdRelation, RecipientCategory};
    use domain::referral::*;

    fn find<T: Labelled>(names: &[&str], value: &str, language: Language) -> Option<Option<&'static str>> {
        let same = names.len() == T::ALL.len() && T::ALL.iter().zip(names).all(|(v, n)| v.as_str() == *n);
        same.then(|| T::parse(value).map(|v| label(v, language)))
    }
    None.or_else(|| find::<RecipientCategory>(names, value, language))
        .or_else(|| find::<Gender>(names, value, language))
        .or_else(|| find::<HouseholdRelation>(names, value, language))
        .or_else(|| find::<RoleKind>(names, value, language))
        .or_else(|| find::<Post>(names, value, language))
        .or_else(|| find::<EntityKind>(names, value, language))
        .or_else(|| find::<Stage>(names, value, language))
        .or_else(|| find::<ClosureStatus>(names, value, language))
        .or_else(|| find::<ScreeningSource>(names, value, language))
        .or_else(|| find::<RiskLevel>(names, value, language))
        .or_else(|| find::<GoalEvaluation>(names, value, language))
        .or_else(|| find::<ResourceLinkKind>(names, value, language))
        .or_else(|| find::<ResourceLinkStatus>(names, value, language))
        .or_else(|| find::<ServiceType>(names, value, language))
        .or_else(|| find::<ServiceMethod>(names, value, language))
        .or_else(|| find::<ClosureDecisionKind>(names, value, language))
        .or_else(|| find::<ReferralDirection>(names, value, language))
        .or_else(|| find::<ReferralCounterpart>(names, value, language))
        .or_else(|| find::<ReferralOutcome>(names, value, language))
        .or_else(|| find::<ResourceKind>(names, value, language))
        .flatten()
}

#[cfg(test)]
mod tests {
    use domain::entity::{EntityKind, FieldType};

    use super::*;

    /// A form can label every choice of every vocabulary a field spec uses, in both languages: a
    /// new vocabulary in `domain` fails here until it is listed in [`vocabulary_label`].
    #[test]
    fn every_vocabulary_of_every_field_has_labels() {
        for kind in EntityKind::ALL {
            for field in kind.spec().fields {
                let (FieldType::Enum(names) | FieldType::EnumSet(names)) = field.ty else { continue };
                for name in names {
                    for language in [Language::Zh, Language::En] {
                        let text = vocabulary_label(names, name, language);
                        assert!(text.is_some_and(|t| !t.is_empty()), "{kind:?}.{} {name} in {language:?}", field.name);
                    }
                }
            }
        }
    }

    #[test]
    fn values_outside_the_vocabulary_have_no_label() {
        use domain::recipient::{GENDER_NAMES, RECIPIENT_CATEGORY_NAMES};
        assert_eq!(vocabulary_label(GENDER_NAMES, "Female", Language::Zh), Some("女"));
        assert_eq!(vocabulary_label(RECIPIENT_CATEGORY_NAMES, "Dibao", Language::En), Some("Minimum living allowance"));
        assert_eq!(vocabulary_label(GENDER_NAMES, "Other", Language::Zh), None);
        assert_eq!(vocabulary_label(&["A", "B"], "A", Language::Zh), None);
    }
}
