//! The UI's words in Chinese (the default) and English. Labels of domain vocabularies (categories,
//! roles, field names) come from `domain` itself, so the UI and the error messages agree.

use domain::Labelled;
use domain::entity::FieldSpec;

use crate::dto::{Language, sentence};

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
    PreviousPage => "上一页", "Previous";
    NextPage => "下一页", "Next";
    PageLabel => "第", "Page";
    PageSuffix => "页", "";
    AddRecipientTitle => "新增服务对象", "Add a recipient";
    AddRecipientHint => "性别和出生日期根据身份证号自动填写。", "Gender and date of birth are read from the ID number.";
    ChooseVillage => "请选择村(社区)", "Choose a village";
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
