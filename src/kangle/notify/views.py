from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from kangle.notify import services
from kangle.notify.models import Notification


@login_required
def inbox(request):
    notices = Notification.objects.filter(recipient=request.user).order_by("-created_at", "-id")[:100]
    template = "notify/inbox_workbench.html" if request.user.is_workbench_user else "notify/inbox_phone.html"
    return render(request, template, {"notices": notices})


@login_required
@require_POST
def mark_read(request, pk):
    # Someone else's notice is simply not found.
    notice = get_object_or_404(Notification, pk=pk, recipient=request.user)
    services.notification_mark_read(actor=request.user, notification=notice)
    return redirect(notice.link or "notify:inbox")
