// Consent, onboarding with a qualification check, then the task, all in one HIT. Nothing is sent
// before the worker consents; the submission records the consent time, the check's answers and
// whether it was passed on the first try, so a review can pay, reject or grant a qualification
// (`hitstate review`) from the data.
(() => {
  var QUIZ = [
    { a: 'The cat is asleep.', b: 'The cat is sleeping.', same: 'yes' },
    { a: 'Prices rose in May.', b: 'Prices fell in May.', same: 'no' },
    { a: 'Anna gave Ben a book.', b: 'Ben was given a book by Anna.', same: 'yes' },
  ];
  var error = document.getElementById('form-error');
  var consentedAt = null;
  var attempts = [];

  function showError(text) {
    error.textContent = text;
    error.hidden = text === '';
  }

  function step(id) {
    ['consent', 'onboarding', 'task'].forEach((name) => {
      document.getElementById(name).hidden = name !== id;
    });
    showError('');
  }

  function radio(name) {
    var input = document.querySelector(`input[name="${name}"]:checked`);
    return input ? input.value : null;
  }

  var list = document.getElementById('quiz');
  QUIZ.forEach((q, i) => {
    var item = document.createElement('li');
    [q.a, q.b].forEach((text) => {
      var quote = document.createElement('blockquote');
      quote.textContent = text;
      item.appendChild(quote);
    });
    ['yes', 'no'].forEach((value) => {
      var label = document.createElement('label');
      var input = document.createElement('input');
      input.type = 'radio';
      input.name = `quiz-${i}`;
      input.value = value;
      label.appendChild(input);
      label.appendChild(document.createTextNode(value === 'yes' ? ' Same' : ' Different'));
      item.appendChild(label);
    });
    list.appendChild(item);
  });

  window.hitstate.getTask().then(
    (task) => {
      var data = task.data || {};
      document.getElementById('sentence-a').textContent = data.a || '';
      document.getElementById('sentence-b').textContent = data.b || '';
      if (task.isPreview) document.getElementById('preview-note').hidden = false;
      else if (!task.submitted) document.getElementById('consent-next').disabled = false;
    },
    (err) => showError(`The task could not be loaded: ${err.message}`),
  );

  document.getElementById('consent-next').addEventListener('click', () => {
    if (!document.getElementById('agree').checked) return showError('Tick the box to agree, or return the HIT.');
    consentedAt = new Date().toISOString();
    step('onboarding');
  });

  document.getElementById('quiz-check').addEventListener('click', () => {
    var answers = QUIZ.map((_, i) => radio(`quiz-${i}`));
    if (answers.includes(null)) return showError('Answer all three questions.');
    attempts.push(answers);
    var wrong = QUIZ.filter((q, i) => answers[i] !== q.same).length;
    if (wrong > 0) return showError(`${wrong} answer(s) are not right yet. Read the examples again and retry.`);
    step('task');
  });

  document.getElementById('submit-button').addEventListener('click', (event) => {
    var same = radio('same');
    if (same === null) return showError('Pick yes or no.');
    event.target.disabled = true;
    window.hitstate
      .submit({
        consent: { agreed: true, at: consentedAt },
        qualification: { passedFirstTry: attempts.length === 1, attempts: attempts },
        answer: { same: same },
      })
      .catch((err) => {
        event.target.disabled = false;
        showError(`Your answer was not saved (${err.message}). Please try again.`);
      });
  });
})();
