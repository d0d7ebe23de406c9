from django.core import signing
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponseForbidden

from arena.core.storage import key_from_token


def signed_file(request, token: str):
    """Serve one stored file to whoever holds an unexpired signed link to it."""
    try:
        key = key_from_token(token)
    except signing.SignatureExpired:
        return HttpResponseForbidden("This download link has expired; ask for a new one.")
    except signing.BadSignature:
        raise Http404("No such file.") from None
    if not default_storage.exists(key):
        raise Http404("No such file.")
    return FileResponse(default_storage.open(key, "rb"), as_attachment=True,
                        filename=key.rsplit("/", 1)[-1])
