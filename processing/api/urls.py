from django.urls import path

from processing.api import views

urlpatterns = [
    path("operations/", views.OperationListView.as_view(), name="api-operations"),
    path("presets/", views.PresetListCreateView.as_view(), name="api-presets"),
    path("presets/preview", views.PresetPreviewView.as_view(), name="api-preset-preview"),
    path("presets/<str:preset_ref>/", views.PresetDetailView.as_view(), name="api-preset"),
    path("jobs/", views.JobListCreateView.as_view(), name="api-jobs"),
    path("jobs/<str:job_id>/", views.JobDetailView.as_view(), name="api-job"),
    path("jobs/<str:job_id>/cancel", views.JobCancelView.as_view(), name="api-job-cancel"),
    path("jobs/<str:job_id>/retry", views.JobRetryView.as_view(), name="api-job-retry"),
    path("batches/<str:batch_id>/", views.BatchDetailView.as_view(), name="api-batch"),
    path("batches/<str:batch_id>/cancel", views.BatchCancelView.as_view(), name="api-batch-cancel"),
]
