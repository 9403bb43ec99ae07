"""Build the POST data of a Django admin change form from its GET response.

``changeform_data(client.get(change_url))`` returns what a browser would post
back unchanged (main form, inline management forms and rows); tests then
override what they change.
"""

from __future__ import annotations

from django import forms


def _add_form(data: dict, form: forms.BaseForm) -> None:
    for name, field in form.fields.items():
        if field.disabled:
            continue
        bound = form[name]
        value = bound.value()
        if isinstance(field.widget, forms.CheckboxInput):
            if value:
                data[bound.html_name] = "on"
            continue
        if value is None:
            continue
        if isinstance(field.widget, forms.MultiWidget):
            parts = field.widget.decompress(value)
            for index, part in enumerate(parts):
                data[f"{bound.html_name}_{index}"] = "" if part is None else str(part)
            continue
        if isinstance(value, list | tuple):
            data[bound.html_name] = [str(v) for v in value]
        else:
            data[bound.html_name] = str(value)


def changeform_data(response) -> dict:
    data: dict = {}
    _add_form(data, response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        _add_form(data, formset.management_form)
        for form in formset.forms:
            _add_form(data, form)
    return data
