"""URLs of the classifier app. Analyses are addressed by their UUID; the old integer URLs
(/analyses/7/...) redirect their owner and are 404 for everyone else."""
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from . import accounts, shares, views
from .api import api

urlpatterns = [
    path("", views.home, name="home"),
    path("analyse", views.analyse, name="analyse"),
    path("analyses/<uuid:uid>/", views.result, name="result"),
    path("analyses/<uuid:uid>/waveform.png", views.plot, {"kind": "waveform"}, name="waveform"),
    path("analyses/<uuid:uid>/spectrogram.png", views.plot, {"kind": "spectrogram"},
         name="spectrogram"),
    path("analyses/<uuid:uid>/audio", views.audio, name="audio"),
    path("analyses/<uuid:uid>/delete", views.delete, name="delete"),
    path("analyses/<uuid:uid>/share", shares.create, name="share_create"),
    path("analyses/<uuid:uid>/share/<int:share_id>/revoke", shares.revoke, name="share_revoke"),
    re_path(r"^analyses/(?P<pk>[0-9]{1,18})/(?P<rest>[a-z.]*)$", views.legacy),
    path("s/<str:token>/", shares.page, name="shared"),
    path("s/<str:token>/waveform.png", shares.plot, {"kind": "waveform"}, name="shared_waveform"),
    path("s/<str:token>/spectrogram.png", shares.plot, {"kind": "spectrogram"},
         name="shared_spectrogram"),
    path("s/<str:token>/audio", shares.audio, name="shared_audio"),
    path("history/", views.history, name="history"),
    path("history/delete", views.delete_all, name="delete_all"),
    path("history/export.csv", views.export_csv, name="export_csv"),
    path("model/", views.model, name="model"),
    path("model/confusion.png", views.model_confusion, name="model_confusion"),
    path("account/", accounts.account, name="account"),
    path("account/sign-up", accounts.sign_up, name="sign_up"),
    path("account/sign-in", accounts.SignInView.as_view(), name="login"),
    path("account/sign-out", auth_views.LogoutView.as_view(), name="logout"),
    path("account/password", auth_views.PasswordChangeView.as_view(
        success_url="/account/password/done"), name="password_change"),
    path("account/password/done", auth_views.PasswordChangeDoneView.as_view(),
         name="password_change_done"),
    path("account/tokens", accounts.token_create, name="token_create"),
    path("account/tokens/<int:token_id>/revoke", accounts.token_revoke, name="token_revoke"),
    path("account/delete", accounts.delete_account, name="delete_account"),
    path("api/", api.urls),
    path("voice/", include("classifier.voice")),   # "Adapt to my voice" (voice profiles)
    path("live/", include("classifier.live")),   # Live mode (live #5)
    path("mic/", include("classifier.mic")),     # server microphone, loopback only (live #5)
]
