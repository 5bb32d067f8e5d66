from django.urls import path

from kangle.recognition import stories_views, views

app_name = "recognition"

urlpatterns = [
    path("letters/", views.letters, name="letters"),
    path("letters/draft/", views.letter_draft, name="letter-draft"),
    path("letters/<int:letter_id>/", views.letter, name="letter"),
    path("letters/<int:letter_id>/pdf/", views.letter_pdf, name="letter-pdf"),
    path("nominations/", views.nominations, name="nominations"),
    path("me/", views.me, name="me"),
    path("stories/", views.stories, name="stories"),
    path("stories/<int:story_id>/", views.story, name="story"),
    path("manage/stories/", stories_views.story_list, name="manage-stories"),
    path("manage/stories/<int:story_id>/", stories_views.story_edit, name="manage-story"),
    path("manage/stories/<int:story_id>/photos/", stories_views.story_photo, name="manage-story-photo"),
    path("manage/stories/<int:story_id>/publish/", stories_views.story_publish, name="manage-story-publish"),
]
