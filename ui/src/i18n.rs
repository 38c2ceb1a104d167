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
            /// Every text, for the tests that read the UI's whole vocabulary.
            #[cfg(test)]
            pub const ALL: &'static [Text] = &[$(Text::$key),+];

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
    RejectedTyped => "所填内容", "What was typed";
    RejectedActionsHint => "可以修改后重新提交，或放弃这条修改（放弃后仍保留在修改记录中）。", "Edit it and send it again, or discard it (a discarded change stays in the change log).";
    ResendEdit => "修改后重新提交", "Edit and resend";
    Resend => "重新提交", "Send again";
    Resending => "正在提交…", "Sending…";
    Discard => "放弃", "Discard";
    DiscardConfirm => "确定放弃这条修改吗？它不会再上传，但会保留在修改记录中。", "Discard this change? It will not be sent, but it stays in the change log.";
    DiscardYes => "确定放弃", "Yes, discard";
    RejectedResent => "已重新提交：", "Sent again: ";
    RejectedDiscarded => "已放弃：", "Discarded: ";
    RejectedSetAside => "暂缓上传（未被拒绝）：请在“待上传”页面重试。", "Set aside, not refused: try it again from the waiting page.";
    RefusedField => "涉及：", "Concerns: ";
    ThisDevice => "本机", "this laptop";
    OtherDevice => "设备 ", "device ";
    TypeThirdValue => "都不对？填写正确的值", "Neither? Type the right value";
    KeepTyped => "保留所填的值", "Keep the value typed";
    Verified => "已核对", "Verified";
    VerifiedHint => "本机数据上次与服务器核对一致的时间", "When this computer's data was last checked against the server's";
    NeverVerified => "尚未核对", "not yet";
    PossibleDuplicates => "疑似重复", "Possible duplicates";
    WaitingTitle => "待上传的修改", "Changes waiting to be sent";
    WaitingHint => "这些修改已保存在本机，能连上服务器时自动按顺序上传。", "These changes are saved on this computer and are sent in this order as soon as the server can be reached.";
    NoWaiting => "没有待上传的修改。", "Nothing is waiting to be sent.";
    WaitingMorePrefix => "另有 ", "And ";
    WaitingMoreSuffix => " 条修改未列出。", " more changes not listed.";
    ChangedFields => "内容", "Fields";
    ChangeOp => "类型", "Change";
    SetAsideTitle => "暂缓上传的修改", "Changes set aside";
    SetAsideHint => "服务器暂时无法接收这些修改。它们在本机仍然有效，并会定期重试；也可以立即重试。", "The server could not take these changes as sent. They still count on this computer and are tried again from time to time; you can also try again now.";
    SetAsideAt => "暂缓时间", "Set aside";
    RetryNow => "立即重试", "Try again now";
    Retrying => "正在重试…", "Trying again…";
    RetryQueued => "已重新排队上传：", "Queued to be sent again: ";
    UsbTitle => "U盘同步（没有网络时）", "Sync by USB stick (without a network)";
    UsbHint => "没有网络的电脑把待发送的修改导出为同步包，用U盘带到社工站，由联网的电脑转交服务器并生成回程包；再把回程包带回本机导入。同步包已加密，只有本机和服务器能读取。", "A laptop without a network exports its waiting changes as a bundle file; a station laptop that is online relays it to the server and writes a return bundle, which is carried back and imported here. Bundles are encrypted: only this laptop and the server can read them.";
    UsbExportPath => "导出到（U盘文件夹或文件路径）", "Export to (a folder on the stick, or a file path)";
    UsbExport => "导出同步包", "Export bundle";
    UsbRelayPath => "要转交的同步包（在社工站联网的电脑上）", "Bundle to relay (on the station's online laptop)";
    UsbRelay => "转交服务器并生成回程包", "Relay and write the return bundle";
    UsbImportPath => "回程包的路径", "Return bundle path";
    UsbImport => "导入回程包", "Import return bundle";
    UsbWorking => "正在处理…", "Working…";
    ConflictsTitle => "待处理的冲突", "Open conflicts";
    ConflictsHint => "同一内容在两处被同时修改时，较晚的修改生效，另一个值保存在这里。请选择保留哪一个。", "When the same field was changed in two places at once, the later change stands and the other value is kept here. Choose which one to keep.";
    NoConflicts => "没有待处理的冲突。", "No open conflicts.";
    LostValue => "被覆盖的值", "Overwritten value";
    CurrentValue => "现在的值", "Current value";
    KeepThis => "保留此值", "Keep this";
    ConflictResolved => "已处理冲突：", "Conflict settled: ";
    Unknown => "未知", "unknown";
    DuplicatesTitle => "疑似重复的服务对象", "Possible duplicates";
    DuplicatesHint => "以下服务对象在同一社工站登记了相同的身份证号，可能是同一人在不同电脑上重复建档。请打开档案核对。", "These recipients share a resident ID number within one station: probably one person recorded twice on different computers. Open the files to check.";
    NoDuplicates => "没有疑似重复的服务对象。", "No possible duplicates.";
    RecordedBy => "建档", "Recorded";
    Reason => "原因", "Reason";
    Record => "记录", "Record";
    RecordedAt => "时间", "When";
    Back => "返回", "Back";
    NotFoundTitle => "找不到这个页面", "There is no such page";
    NotFoundHint => "这个地址没有对应的页面。", "Nothing is shown at this address.";
    BackToStart => "回到首页", "Back to the start";
    ColumnActions => "操作", "Actions";
    RosterRecordVisit => "记走访", "Record visit";
    RecipientFileTitle => "服务对象档案", "Recipient file";
    HouseholdFileTitle => "家庭档案（一户一档）", "Household file";
    ServicePoint => "社工点", "Service point";
    Household => "家庭", "Household";
    NoHousehold => "尚未加入家庭。", "Not in a household.";
    EditFile => "修改档案", "Edit";
    EditRecipientTitle => "修改服务对象档案", "Edit the recipient's file";
    EditRecipientHint => "性别和出生日期随身份证号更新；所在村(社区)请用“转移”修改。", "Gender and date of birth follow the ID number; change the village with \"Transfer\".";
    Transfer => "转移", "Transfer";
    TransferTitle => "转移到其他村(社区)", "Transfer to another village";
    TransferTo => "转移到", "Move to";
    TransferSave => "确认转移", "Transfer";
    TransferChooseOther => "请选择另一个村(社区)。", "Choose another village.";
    Transferred => "已转移到", "Moved to";
    CreateHousehold => "建立家庭档案", "Create a household";
    CreateHouseholdHint => "保存后，本人作为户主加入这个家庭。", "Once saved, this person joins it as the head.";
    HouseholdCreated => "已建立家庭档案", "Household created";
    HeadNotJoined => "家庭已建立，但未能把本人设为户主：", "The household was created, but this person could not be made its head: ";
    ChangesSaved => "已保存修改", "Changes saved";
    RecordVisit => "入户走访", "Record a visit";
    RecordHouseholdVisit => "本户入户走访", "Record a household visit";
    OpenCases => "在办个案", "Open cases";
    NoOpenCases => "没有在办个案。", "No open cases.";
    OpenedOn => "开案日期", "Opened on";
    CaseWorker => "负责社工", "Worker";
    Ledger => "服务台账", "Service ledger";
    NoLedger => "台账中还没有记录。", "Nothing recorded yet.";
    ColumnDate => "日期", "Date";
    ColumnKind => "类型", "Kind";
    ColumnSummary => "内容", "Details";
    ColumnAuthor => "记录人", "By";
    ColumnMember => "成员", "Member";
    Corrected => "已更正", "Corrected";
    SeeCorrection => "查看更正", "See the correction";
    CorrectionOf => "更正记录", "Correction";
    SeeOriginal => "查看原记录", "See the original";
    History => "修改记录", "Change history";
    NoHistory => "没有修改记录。", "No changes recorded.";
    HistoryCreated => "建档", "Created";
    HistoryEdited => "修改", "Edited";
    Device => "设备", "Device";
    StatusPending => "待上传", "waiting to send";
    StatusAccepted => "已上传", "sent";
    StatusSynced => "已同步", "synced";
    ValueCleared => "（清空）", "(cleared)";
    Yes => "是", "Yes";
    No => "否", "No";
    Members => "家庭成员", "Members";
    NoMembers => "还没有成员。", "No members yet.";
    EditHouseholdTitle => "修改家庭档案", "Edit the household";
    RemoveMember => "移出", "Remove";
    ConfirmRemove => "确认移出", "Confirm removal";
    MemberRemoved => "已移出家庭：", "Removed from the household: ";
    AddMember => "添加成员", "Add a member";
    FindRecipient => "按姓名或拼音首字母查找", "Find by name or pinyin initials";
    NoMatches => "没有找到。", "No one found.";
    AlreadyMember => "已是成员", "Already a member";
    ChosenMember => "要加入的人：", "Joining: ";
    ChooseSomeone => "请先从查找结果中选择一个人。", "Choose a person from the results first.";
    AddToHousehold => "加入家庭", "Add to the household";
    MemberAdded => "已加入家庭：", "Added to the household: ";
    HouseholdVisitHint => "本户的走访记录在户主名下。", "A household's visits are recorded under its head.";
    NoHead => "这个家庭还没有户主：请先在成员中设定户主。", "This household has no head yet: make a member its head first.";
    VisitTitle => "入户走访", "Home visit";
    SaveVisit => "保存走访", "Save visit";
    VisitKeysHint => "按 Enter 保存（文本框中按 Ctrl+Enter）；保存后即可录入下一条。", "Enter saves (Ctrl+Enter in a text box); the form is then ready for the next visit.";
    VisitSaved => "已保存走访", "Visit saved";
    Visits => "走访记录", "Visits";
    NoVisits => "还没有走访记录。", "No visits yet.";
    Amend => "更正", "Correct";
    AmendTitle => "更正走访记录", "Correct a visit";
    AmendHint => "走访记录不能修改：更正会另存一条，原记录保留并标为已更正。", "Visits are never edited: the correction is saved as a new visit, and the original is kept, marked as corrected.";
    SaveCorrection => "保存更正", "Save correction";
    CorrectionSaved => "已保存更正", "Correction saved";
    BackToFile => "返回档案", "Back to the file";
    FollowUpNeeded => "需要跟进", "Follow-up needed";
    CaseTitle => "个案", "Case";
    CaseRecipient => "服务对象", "Recipient";
    CaseClosureStatus => "结案状态", "Closure";
    CaseInStageSince => "进入本阶段", "In this stage since";
    CasePipeline => "个案流程", "Case pipeline";
    CaseStepDone => "已完成", "done";
    CaseStepCurrent => "当前阶段", "current stage";
    CaseStepUpcoming => "未开始", "not reached yet";
    CaseRecordsCount => "条记录", "record(s)";
    CaseMissingTitle => "进入下一步前还需要：", "Still needed before the next step:";
    CaseNothingMissing => "已具备进入下一步的条件。", "Everything the next step needs is there.";
    CaseGoToForm => "去填写", "Go to the form";
    CaseMoveTo => "进入下一阶段：", "Move to the next stage: ";
    CaseMoving => "正在推进…", "Moving…";
    CaseMoveBlocked => "上面列出的内容完成后，才能进入下一阶段。", "The case moves on once what is listed above is done.";
    CaseMoved => "个案已进入", "The case is now at";
    CaseStageLater => "个案尚未进入这一阶段。", "The case has not reached this stage yet.";
    CaseNoRecords => "暂无记录。", "No records yet.";
    CaseRecordedBy => "记录人", "Recorded by";
    CaseCorrect => "更正", "Correct";
    CaseEdit => "修改", "Edit";
    CaseAddRecord => "新增：", "Add: ";
    CaseRecordSaved => "已保存记录", "Record saved";
    CaseCorrectTitle => "更正记录", "Correct the record";
    CaseAmendHint => "服务记录和回访记录不能修改：更正会另存一条，原记录保留并标为已更正。", "Interventions and follow-up visits are never edited: the correction is saved as a new record, and the original is kept, marked as corrected.";
    CaseEditTitle => "修改记录", "Edit the record";
    CaseEvaluate => "评估", "Evaluate";
    CaseEvaluateTitle => "评估服务目标", "Evaluate the goal";
    CaseGoalsToEvaluate => "服务目标评估", "Evaluating the plan's goals";
    CaseNotEvaluated => "待评估", "Not evaluated yet";
    CaseNothingChanged => "没有改动。", "Nothing was changed.";
    CaseStrategySaved => "已保存介入策略", "Strategy saved";
    CaseClosureTitle => "申请结案", "Request closure";
    CaseClosureSummary => "结案小结", "Closure summary";
    CaseClosureSummaryHint => "写明服务目标的达成情况和结案理由，督导据此审核。", "Say how far the goals were reached and why the case can close; the supervisor reviews it.";
    CaseRequestClosure => "提交结案申请", "Request closure";
    CaseRequesting => "正在提交…", "Sending…";
    CaseClosureNotYet => "完成上面列出的内容后才能申请结案。", "Closure can be requested once what is listed above is done.";
    CaseClosurePending => "已申请结案，等待督导审核。", "Closure requested: awaiting the supervisor.";
    CaseClosureReturned => "结案申请被督导退回", "The supervisor returned the closure request";
    CaseReturnedHint => "请按督导意见补充后重新申请结案。", "Act on the comments, then request closure again.";
    CaseSupervisorComments => "督导意见", "Supervisor's comments";
    CaseNoComments => "（督导未填写意见）", "(no comments given)";
    CaseSupervisor => "督导", "Supervisor";
    CaseDecidedAt => "审核时间", "Decided at";
    CaseSignedOff => "已结案：督导已签署", "Closed: signed off by the supervisor";
    CaseSealVerified => "签名有效", "Seal verified";
    CaseSealBroken => "签名校验未通过", "Seal broken";
    CaseRequestedOn => "申请日期", "Requested on";
    CaseUnknown => "（尚未同步到本机）", "(not on this computer yet)";
    CaseOpenNew => "开案", "Open a case";
    CaseOpening => "正在开案…", "Opening…";
    CaseOpened => "已开案：", "Case opened: ";
    CaseCurrentStage => "当前阶段", "Stage";
    CaseOpenedOn => "开案日期", "Opened on";
    CaseAssignedWorker => "负责社工", "Assigned worker";
    CaseCorrected => "已更正", "Corrected";
    CaseSeeCorrection => "查看更正", "See the correction";
    CaseCorrectionOf => "更正记录", "Correction";
    CaseSeeOriginal => "查看原记录", "See the original";
    CaseSaveCorrection => "保存更正", "Save correction";
    CaseCorrectionSaved => "已保存更正", "Correction saved";
    CaseChangesSaved => "已保存修改", "Changes saved";
    CaseSealBrokenTitle => "签署校验未通过：不能视为已签署结案", "Seal broken: this is not a valid sign-off";
    CaseSignOffNotHere => "已结案：签署记录尚未同步到本机，无法校验", "Closed: the sign-off has not reached this computer, so it cannot be checked";
    NavClosures => "结案审核", "Closure requests";
    ClosuresTitle => "待审核的结案申请", "Closure requests awaiting review";
    ClosuresHint => "最早的申请在前。用 ↑ ↓ 选择，回车打开个案。", "Oldest request first. Use ↑ and ↓ to choose, Enter to open the case.";
    ClosuresEmpty => "没有待审核的结案申请。", "No closure requests are waiting.";
    ClosuresStation => "社工站", "Station";
    ClosuresRecipient => "服务对象", "Recipient";
    ClosuresWorker => "社工", "Worker";
    ClosuresRequestedOn => "申请日期", "Requested on";
    ClosuresDaysWaiting => "已等待(天)", "Days waiting";
    ClosuresSummary => "结案小结", "Summary";
    DecisionTitle => "结案审核", "Decide on the closure";
    DecisionHint => "请阅读下方各阶段的记录后签署或退回。签署在本机完成，离线也可以。", "Read every stage below, then sign off or return. The seal is made on this computer, offline too.";
    DecisionComments => "审核意见", "Comments";
    DecisionCommentsHint => "签署时可不填；退回时必须填写，社工会在个案页看到。", "Optional to sign off; required to return, and the worker sees them on the case.";
    DecisionSignOff => "同意结案并签署", "Sign off";
    DecisionSigning => "正在签署…", "Signing…";
    DecisionReturn => "退回结案申请", "Return";
    DecisionReturning => "正在退回…", "Returning…";
    DecisionSignedOff => "已签署结案", "Closure signed off";
    DecisionReturned => "已退回结案申请", "Closure request returned";
    ReopenTitle => "重新开案", "Reopen the case";
    ReopenReason => "重新开案原因", "Reason for reopening";
    ReopenHint => "重新开案后个案回到跟踪问效阶段，原签署不再适用；原因和操作人会记录在案。", "The case returns to follow-up and the earlier sign-off no longer applies; the reason and who reopened it are recorded.";
    ReopenButton => "重新开案", "Reopen";
    ReopenBusy => "正在重新开案…", "Reopening…";
    ReopenDone => "个案已重新开案", "The case was reopened";
    ReopeningsTitle => "重新开案记录", "Reopenings";
    ReopenedBy => "重新开案人", "Reopened by";
    ReopenedAt => "时间", "When";
    ReopenNoReason => "（未填写原因）", "(no reason given)";
    RecentVisitsTitle => "服务对象近期走访", "The recipient's recent visits";
    RecentVisitsNone => "暂无走访记录。", "No visits recorded yet.";
    NavBoard => "挂图作战", "Case board";
    NavSupervision => "督导", "Supervision";
    NavTraining => "培训与工时", "Training and time";
    NavStandards => "达标情况", "Standards";
    NavReports => "统计报表", "Reports";
    SupervisionTitle => "督导计划与记录", "Supervision plans and sessions";
    SupervisionPlans => "督导计划", "Plans";
    SupervisionSessions => "督导记录", "Sessions held";
    NewSupervisionPlan => "公布督导计划", "Announce a plan";
    NewSupervisionSession => "记录一次督导", "Record a session";
    NoSupervisionPlans => "还没有督导计划。", "No plans yet.";
    NoSupervisionSessions => "还没有督导记录。", "No sessions yet.";
    SupervisionPlanEdit => "修改", "Edit";
    SupervisionPlanEdited => "督导计划已修改", "The plan is updated";
    PlanHeld => "已开展", "held";
    PlanPending => "待开展", "to come";
    Feedback => "督导反馈", "Feedback";
    SaveFeedback => "保存反馈", "Save feedback";
    CasesDiscussed => "讨论的个案", "Cases discussed";
    TrainingTitle => "培训与工作时长", "Training and working time";
    Qualification => "职业水平", "Qualification";
    NoQualification => "未登记", "not recorded";
    TrainingRecords => "培训记录", "Training";
    NewTrainingRecord => "记录一次培训", "Record a training";
    NoTrainingRecords => "还没有培训记录。", "No training recorded.";
    TrainingRecordEdit => "修改", "Edit";
    TrainingRecordEdited => "培训记录已修改", "The training is updated";
    WorkTimeRecords => "工作时长", "Working time";
    NewWorkTime => "记录工作时长", "Record working time";
    NoWorkTime => "还没有工作时长记录。", "No working time recorded.";
    ThisYear => "今年", "This year";
    ProfessionalShare => "专业服务时长占比", "Share of professional service";
    StandardsTitle => "督导与培训达标情况", "Supervision and training against the standards";
    StandardSetLabel => "考核标准", "Standards";
    NoStandardSet => "（未选择）", "(none chosen)";
    StandardsNotChosen => "本站尚未选择考核标准；副站长可在上方选择。", "The station has not chosen its standards yet; the deputy head chooses them above.";
    StationRules => "社工站", "Station";
    ColumnRule => "要求", "Requirement";
    ColumnAchieved => "已完成", "Done";
    ColumnDueByNow => "截至今日应完成", "Due by today";
    ColumnRequired => "全期要求", "Required";
    ColumnStanding => "情况", "Standing";
    Sessions => "次", "sessions";
    SaveChoice => "保存", "Save";
    BoardTitle => "个案挂图作战", "Case board";
    BoardFilters => "筛选个案", "Filter cases";
    BoardWorker => "负责社工", "Worker";
    AllWorkers => "全部社工", "All workers";
    BoardRisk => "风险等级", "Risk level";
    AllRiskLevels => "全部风险等级", "All risk levels";
    BoardShowClosed => "显示已结案", "Show closed cases";
    BoardNoCases => "暂无个案", "No cases";
    BoardRiskPrefix => "风险：", "Risk: ";
    BoardStalled => "停滞", "Stalled";
    BoardOverdue => "回访逾期", "Follow-up overdue";
    BoardClosureWaiting => "待督导审核结案", "Closure awaiting sign-off";
    BoardReassignTo => "改派给", "Reassign to";
    BoardReassign => "改派", "Reassign";
    BoardReassignOpen => "改派…", "Reassign…";
    BoardStallDays => "停滞提醒天数", "Stall threshold (days)";
    BoardStallSaved => "停滞提醒天数已保存", "The stall threshold is saved";
    BoardStallInvalid => "停滞提醒天数须为 1 到 365 的整数；留空则用默认值 30 天", "The stall threshold (days) must be a whole number from 1 to 365; leave it empty for the default of 30 days";
    BoardNothingYet => "暂无数据", "Nothing yet";
    DashboardTitle => "本站概况（本月）", "The station at a glance (this month)";
    CountClosuresWaiting => "待审核结案", "Closures awaiting sign-off";
    CountStalled => "停滞个案", "Stalled cases";
    CountOverdue => "回访逾期个案", "Cases with follow-up overdue";
    CountRefused => "本机被退回的修改", "Refused changes (this computer)";
    CountConflicts => "待处理冲突", "Open conflicts";
    ChartVisitsWorker => "本月走访（按社工）", "Visits this month by worker";
    ChartVisitsVillage => "本月走访（按村）", "Visits this month by village";
    ChartOpenStage => "在办个案（按阶段）", "Open cases by stage";
    HandedOverTitle => "因个案改派被退回的修改", "Changes refused because the case was reassigned";
    HandedOverIntro => "这些修改是您离线时记录的，期间个案已改派给其他社工。内容没有丢失：请把下面的文字复制发给现在负责的社工。", "You recorded these offline while the case was reassigned to another worker. Nothing is lost: copy the text below and send it to the worker who has the case now.";
    HandedOverNote => "转交内容", "Text to hand over";
    OffersTitle => "转交给您的离线修改", "Offline work handed over to you";
    OffersIntro => "原负责社工离线时记录了这些内容，期间个案已改派。接手：以您的名义重新记录；不采用：忽略。", "The previous worker recorded these offline while the case was reassigned. Take over: record them again under your name; dismiss: let them go.";
    OfferRecordedBy => "离线记录人：", "Recorded offline by";
    OfferTakeOver => "接手", "Take over";
    OfferDismiss => "不采用", "Dismiss";
    NavReferrals => "转介", "Referrals";
    ReferralsTitle => "转介与协助申请", "Referrals and benefit applications";
    ReferralsHint => "转入：受理或不予受理，再开案；转出：对方接收后记录其反馈的结果。协助申请由有关部门办理，本站只记录部门反馈的结果。", "Inbound: accept or decline, then open a case. Outbound: once the department acknowledges it, record the outcome it reported. Benefit applications are decided by the department; the station records the outcome the department reported.";
    ReferralsEmpty => "没有符合条件的转介。", "No referrals match.";
    ReferralNew => "登记转介", "Record a referral";
    ReferralSaved => "转介已登记", "The referral is recorded";
    ReferralAllDirections => "全部方向", "Both directions";
    ReferralAllStates => "全部进展", "Every state";
    ReferralAllPurposes => "全部类型", "Every purpose";
    ReferralColumnDate => "转介日期", "Referred on";
    ReferralColumnCounterpart => "转介单位", "From / to";
    ReferralColumnPerson => "服务对象", "Person";
    ReferralColumnReason => "事由", "Reason";
    ReferralColumnState => "进展", "State";
    ReferralColumnDays => "天数", "Days";
    ReferralOverdue => "逾期", "Overdue";
    ReferralPersonNotOnFile => "（未建档）", "(not on file)";
    ReferralOutcomeReported => "部门反馈的结果", "Outcome as the department reported it";
    ReferralOutcome => "结果", "Outcome";
    ReferralNextStep => "下一步", "Next step";
    ReferralStepDate => "日期", "Date";
    ReferralStepNotes => "说明", "Notes";
    ReferralMoved => "转介进展已更新", "The referral has moved on";
    ReferralHasOutcome => "此转介已有结果。", "This referral has its outcome.";
    ReferralOpenCase => "受理并开案", "Accept and open a case";
    ReferralOpenCaseFor => "为此人开案", "Open a case for this person";
    ReferralChoosePerson => "被转介人尚未建档：请在花名册中找到此人，或先为其建档。", "The person is not on file: find them in the roster, or add them first.";
    ReferralAddPerson => "新增服务对象", "Add the person to the roster";
    ReferralSeeCase => "查看所开个案", "See the case opened";
    ReferralClose => "关闭", "Close";
    ReferralEdit => "修改转介", "Edit the referral";
    ReferralEdited => "转介已修改", "The referral is updated";
    ReferralEditPerson => "关联已建档的服务对象", "Link to the person on file";
    PersonSearch => "查找服务对象（姓名或拼音首字母）", "Find the person (name or pinyin initials)";
    PersonChosen => "已选：", "Chosen: ";
    PersonChoose => "选择", "Choose";
    PersonClear => "不关联服务对象", "No person";
    PersonNoMatch => "花名册中没有找到。", "Nobody in the roster matches.";
    OverdueReferralsTitle => "逾期未办结的转介", "Referrals overdue for an outcome";
    OverdueReferralsNone => "没有逾期的转介。", "No referral is overdue.";
    OverdueReferralDays => "转介逾期提醒天数", "Referral overdue threshold (days)";
    OverdueReferralDaysSaved => "转介逾期提醒天数已保存", "The referral overdue threshold is saved";
    OverdueReferralDaysInvalid => "转介逾期提醒天数须为 1 到 365 的整数；留空则用默认值 15 天", "The referral overdue threshold (days) must be a whole number from 1 to 365; leave it empty for the default of 15 days";
    NavResources => "资源库", "Resources";
    NavActivities => "活动", "Activities";
    ResourcesTitle => "资源库", "Resource library";
    ResourceSearch => "查找（名称、拼音首字母、服务内容或村）", "Search (name, pinyin initials, services or village)";
    ResourceAllKinds => "全部类型", "All kinds";
    ResourceAdd => "新增资源", "Add a resource";
    ResourceEdit => "修改资源", "Edit the resource";
    ResourcesEmpty => "没有符合条件的资源。", "No resources match.";
    ResourcesBack => "返回资源库", "Back to the library";
    ResourceColumnName => "名称", "Name";
    ResourceColumnKind => "类型", "Kind";
    ResourceColumnContact => "联系人", "Contact";
    ResourceColumnServices => "可提供的服务", "Services offered";
    ResourceColumnVillages => "服务的村(社区)", "Villages covered";
    ResourceCultivated => "本站培育", "Cultivated here";
    ResourceInactive => "暂停", "Inactive";
    ResourceHelped => "链接的个案", "Cases it helped";
    ResourceRecipientsHelped => "帮助服务对象（人）：", "Recipients helped: ";
    ResourceMoneyTotal => "慈善款合计：", "Charity money in total: ";
    ResourceGoodsTotal => "物资折价合计：", "Goods in total: ";
    ResourceNoLinks => "尚未链接到个案。", "Not linked to any case yet.";
    ResourceLinkedOn => "链接日期", "Linked on";
    ResourceLinkCase => "个案中的说明", "In the case";
    ResourceLinkStatus => "进展", "Status";
    ResourceLinkOutcome => "链接结果", "Outcome";
    ResourceLinkMoney => "慈善款", "Money";
    ResourceLinkGoods => "物资", "Goods";
    ActivitiesTitle => "活动", "Activities";
    MonthPrevious => "上个月", "Previous month";
    MonthNext => "下个月", "Next month";
    ActivityAdd => "登记活动", "Record an activity";
    ActivityEdit => "修改活动", "Edit the activity";
    ActivitiesEmpty => "本月还没有活动。", "No activities this month.";
    ActivitiesCount => "活动次数：", "Activities: ";
    ActivitiesParticipants => "参与人次：", "Participants: ";
    ActivitiesHours => "时长（小时）：", "Hours: ";
    ActivityColumnTitle => "主题", "Title";
    ActivityColumnPlace => "地点", "Place";
    ActivityColumnHours => "时长（小时）", "Hours";
    ActivityColumnWorkers => "带领的社工", "Run by";
    ActivityColumnParticipants => "参与者", "Participants";
    ActivityPeople => "人", "people";
    ActivityOthers => "其他 ", "";
    ActivityOthersAfter => " 人", " others";
    ActivityRecipients => "参与的服务对象", "Recipients taking part";
    ActivityAddParticipant => "加入", "Add";
    ActivityRemoveParticipant => "移除", "Remove";
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
        .or_else(|| find::<ReferralState>(names, value, language))
        .or_else(|| find::<ReferralPurpose>(names, value, language))
        .or_else(|| find::<ResourceKind>(names, value, language))
        .or_else(|| find::<domain::activity::ActivityKind>(names, value, language))
        .or_else(|| find::<domain::workforce::SupervisionMode>(names, value, language))
        .or_else(|| find::<domain::workforce::TrainingKind>(names, value, language))
        .or_else(|| find::<domain::workforce::WorkKind>(names, value, language))
        .or_else(|| find::<domain::workforce::Qualification>(names, value, language))
        .or_else(|| find::<domain::standards::StandardSet>(names, value, language))
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
