from django.urls import path

from arena.submissions.api import views

urlpatterns = [
    path("phases/<int:phase_id>/submissions", views.PhaseSubmissionsView.as_view(), name="phase-submissions"),
    path("phases/<int:phase_id>/container-submissions", views.PhaseContainerSubmissionsView.as_view(),
         name="phase-container-submissions"),
    path("phases/<int:phase_id>/uploads", views.PhaseUploadTicketView.as_view(), name="phase-upload-ticket"),
    path("submissions", views.MySubmissionsView.as_view(), name="my-submissions"),
    path("submissions/<int:submission_id>", views.SubmissionDetailView.as_view(), name="submission-detail"),
    path("submissions/<int:submission_id>/cancel", views.SubmissionCancelView.as_view(), name="submission-cancel"),
    path("submissions/<int:submission_id>/select", views.SubmissionSelectView.as_view(), name="submission-select"),
]
