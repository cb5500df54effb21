// The label task's page script: shows the unit's sentence and submits the worker's label.
// It uses only the wrapper's documented API (window.hitstate.getTask / submit).
(() => {
  var form = document.getElementById('label-form');
  var sentence = document.getElementById('sentence');
  var error = document.getElementById('form-error');
  var button = document.getElementById('submit-button');

  function showError(text) {
    error.textContent = text;
    error.hidden = text === '';
  }

  function setDisabled(disabled) {
    Array.prototype.forEach.call(form.elements, (el) => {
      el.disabled = disabled;
    });
  }

  setDisabled(true);
  window.hitstate.getTask().then(
    (task) => {
      var data = task.data || {};
      sentence.textContent = typeof data.text === 'string' ? data.text : '(no sentence in this preview)';
      if (task.isPreview) {
        document.getElementById('preview-note').hidden = false;
        return;
      }
      if (!task.submitted) setDisabled(false);
    },
    (err) => {
      sentence.textContent = 'The task could not be loaded.';
      showError(err.message);
    },
  );

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    var choice = form.querySelector('input[name="sentiment"]:checked');
    if (!choice) {
      showError('Choose positive, neutral or negative.');
      return;
    }
    showError('');
    button.disabled = true;
    button.textContent = 'Submitting…';
    window.hitstate.submit({ sentiment: choice.value, comment: form.elements.comment.value }).catch((err) => {
      button.disabled = false;
      button.textContent = 'Submit';
      showError(`Your answer was not saved (${err.message}). Please try again.`);
    });
  });
})();
