from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """The one error shape of the API."""

    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.DictField()


class RefusalSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class LicenceTextSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    title = serializers.CharField()
    text = serializers.CharField()


class AcceptanceSerializer(serializers.Serializer):
    licence_version = serializers.IntegerField(source="licence.version")
    full_name = serializers.CharField()
    affiliation = serializers.CharField()
    accepted_on = serializers.DateField()
    accepted_by = serializers.CharField(source="accepted_by.username")
    agreement_uploaded = serializers.SerializerMethodField()
    agreement_sha256 = serializers.CharField()
    agreement_size = serializers.IntegerField()
    agreement_uploaded_at = serializers.DateTimeField(allow_null=True)

    def get_agreement_uploaded(self, acceptance) -> bool:
        return bool(acceptance.signed_agreement)


class LicenceStatusSerializer(serializers.Serializer):
    """The current licence and where the requesting person's team stands."""

    licence = LicenceTextSerializer(allow_null=True)
    requires_approval = serializers.BooleanField(source="challenge.requires_approval")
    requires_signed_agreement = serializers.BooleanField(source="challenge.requires_signed_agreement")
    is_organiser = serializers.BooleanField()
    team = serializers.CharField(source="team.name", allow_null=True, default=None)
    participation_status = serializers.CharField(source="participation.status", allow_null=True, default=None)
    acceptance = AcceptanceSerializer(allow_null=True)
    can_download = serializers.BooleanField()
    refusal = RefusalSerializer(allow_null=True)


class DatasetAcceptanceSerializer(AcceptanceSerializer):
    approved_at = serializers.DateTimeField(allow_null=True, help_text="When the organisers approved it, "
                                            "for licences that require approval.")


class DatasetLicenceStatusSerializer(serializers.Serializer):
    """A dataset's own licence and where the requesting person's team stands on it."""

    dataset = serializers.SlugField(source="dataset_standing.dataset.slug")
    licence = LicenceTextSerializer(source="dataset_standing.licence")
    requires_signed_agreement = serializers.BooleanField(source="dataset_standing.licence.requires_signed_agreement")
    requires_approval = serializers.BooleanField(source="dataset_standing.licence.requires_approval")
    is_organiser = serializers.BooleanField()
    team = serializers.CharField(source="team.name", allow_null=True, default=None)
    acceptance = DatasetAcceptanceSerializer(source="dataset_standing.acceptance", allow_null=True)
    missing = RefusalSerializer(source="dataset_standing.refusal", allow_null=True,
                                help_text="What the team still has to do for this licence; null when nothing.")
    can_download = serializers.BooleanField(help_text="Whether the challenge rules and this licence "
                                            "both allow downloading the dataset's files.")
    refusal = RefusalSerializer(allow_null=True)


class LicenceAcceptInputSerializer(serializers.Serializer):
    full_name = serializers.CharField(max_length=200)
    affiliation = serializers.CharField(max_length=200)
    accepted_on = serializers.DateField(required=False, help_text="Defaults to today.")


class AgreementUploadInputSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The signed licence agreement, one PDF.")
