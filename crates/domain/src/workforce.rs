//! The workforce's own records (issue 14): supervision (督导) planned and held at a station,
//! each worker's training (培训) and working time (工作时长), and their professional qualification
//! (职业水平). The vocabularies here are the stored names of those records' fields; what the
//! records are held against is [`crate::standards`].

labelled_enum! {
    /// How a supervision session was held. Guangdong counts only supervision on site (实地).
    pub enum SupervisionMode {
        OnSite => "实地督导", "On site",
        Remote => "远程督导", "Remote",
    }
    names = SUPERVISION_MODE_NAMES;
}

labelled_enum! {
    /// The kinds of training the seeds set hours for (Dongguan: pre-service, practice, policy;
    /// Zhengzhou: continuing education).
    pub enum TrainingKind {
        PreService => "岗前培训", "Pre-service training",
        Practice => "实务能力培训", "Practice training",
        Policy => "政策培训", "Policy training",
        ContinuingEducation => "继续教育", "Continuing education",
    }
    names = TRAINING_KIND_NAMES;
}

labelled_enum! {
    /// What a stretch of working time was spent on. The first four are professional service
    /// (专业服务), the time Hunan's share divides by all working time.
    pub enum WorkKind {
        Casework => "个案服务", "Casework",
        GroupWork => "小组工作", "Group work",
        CommunityActivity => "社区活动", "Community activity",
        Visit => "入户走访", "Home visits",
        Administrative => "行政事务", "Administrative work",
        Other => "其他工作", "Other work",
    }
    names = WORK_KIND_NAMES;
}

impl WorkKind {
    /// Whether the time counts as professional service.
    pub fn is_professional(self) -> bool {
        matches!(self, WorkKind::Casework | WorkKind::GroupWork | WorkKind::CommunityActivity | WorkKind::Visit)
    }
}

labelled_enum! {
    /// A worker's national social work qualification (社会工作者职业水平), set by the station's
    /// deputy head or an administrator, who see the certificate.
    pub enum Qualification {
        AssistantSocialWorker => "助理社会工作师", "Assistant social worker",
        SocialWorker => "社会工作师", "Social worker",
        SeniorSocialWorker => "高级社会工作师", "Senior social worker",
    }
    names = QUALIFICATION_NAMES;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Labelled;

    #[test]
    fn casework_group_work_community_activities_and_visits_are_professional_service() {
        let professional: Vec<WorkKind> = WorkKind::ALL.iter().copied().filter(|k| k.is_professional()).collect();
        assert_eq!(
            professional,
            [WorkKind::Casework, WorkKind::GroupWork, WorkKind::CommunityActivity, WorkKind::Visit]
        );
    }
}
