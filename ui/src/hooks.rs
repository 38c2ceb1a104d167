//! The two ways a component calls the shell, each with its loading and error states:
//! [`use_command`] reads (it runs when its dependencies change, and on `reload`), and
//! [`use_action`] changes something when the user asks (a save, a sign-in).

use std::cell::Cell;
use std::marker::PhantomData;
use std::rc::Rc;

use contract::{Command, CommandError};
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::api::invoke;

/// What a read command has brought so far. The last data stay while a newer call runs, so a
/// screen does not blank out while it reloads.
pub struct CommandState<T> {
    /// The number of the latest call; an older call's answer is dropped when it comes late.
    latest: u64,
    loading: bool,
    data: Option<Rc<T>>,
    error: Option<CommandError>,
    /// Bumped by `reload`; a dependency of the call.
    reloads: u64,
}

impl<T> Default for CommandState<T> {
    fn default() -> Self {
        Self { latest: 0, loading: true, data: None, error: None, reloads: 0 }
    }
}

impl<T> Clone for CommandState<T> {
    fn clone(&self) -> Self {
        Self {
            latest: self.latest,
            loading: self.loading,
            data: self.data.clone(),
            error: self.error.clone(),
            reloads: self.reloads,
        }
    }
}

pub enum CommandEvent<T> {
    Started(u64),
    Finished(u64, Result<T, CommandError>),
    Reload,
}

impl<T> Reducible for CommandState<T> {
    type Action = CommandEvent<T>;

    fn reduce(self: Rc<Self>, event: CommandEvent<T>) -> Rc<Self> {
        let mut next = (*self).clone();
        match event {
            CommandEvent::Started(call) => {
                next.latest = call;
                next.loading = true;
            }
            CommandEvent::Finished(call, _) if call != next.latest => return self,
            CommandEvent::Finished(_, Ok(data)) => {
                next.loading = false;
                next.data = Some(Rc::new(data));
                next.error = None;
            }
            CommandEvent::Finished(_, Err(error)) => {
                next.loading = false;
                next.error = Some(error);
            }
            CommandEvent::Reload => next.reloads += 1,
        }
        Rc::new(next)
    }
}

/// A read command's state in a component: `loading()`, `data()`, `error()`, and `reload()`.
pub struct UseCommandHandle<T> {
    state: UseReducerHandle<CommandState<T>>,
}

impl<T> Clone for UseCommandHandle<T> {
    fn clone(&self) -> Self {
        Self { state: self.state.clone() }
    }
}

impl<T> UseCommandHandle<T> {
    /// Whether a call is under way (the last data, if any, are still there).
    pub fn loading(&self) -> bool {
        self.state.loading
    }

    /// The latest successful answer.
    pub fn data(&self) -> Option<&T> {
        self.state.data.as_deref()
    }

    /// The latest call's error; cleared by the next success.
    pub fn error(&self) -> Option<&CommandError> {
        self.state.error.as_ref()
    }

    /// Calls the command again with the arguments of the last render.
    pub fn reload(&self) {
        self.state.dispatch(CommandEvent::Reload);
    }
}

/// Calls read command `C` with `args` when the component mounts and whenever `deps` change (pass
/// everything `args` is made of, and `app.data_version` for data a sync may change).
#[hook]
pub fn use_command<C, D>(args: C::Args, deps: D) -> UseCommandHandle<C::Output>
where
    C: Command + 'static,
    C::Args: 'static,
    C::Output: 'static,
    D: PartialEq + 'static,
{
    let state = use_reducer(CommandState::<C::Output>::default);
    let calls = use_mut_ref(|| 0_u64);
    {
        let state = state.clone();
        use_effect_with((deps, state.reloads), move |_| {
            let call = {
                let mut calls = calls.borrow_mut();
                *calls += 1;
                *calls
            };
            state.dispatch(CommandEvent::Started(call));
            spawn_local(async move {
                let result = invoke::<C>(&args).await;
                state.dispatch(CommandEvent::Finished(call, result));
            });
        });
    }
    UseCommandHandle { state }
}

/// An action's state in a component: whether it runs, and the error of its last run.
pub struct UseActionHandle<C> {
    pub busy: bool,
    pub error: Option<CommandError>,
    /// Set at once on `run` (a state's value only changes at the next render), so a second
    /// click or Enter before that render does not send the command twice.
    running: Rc<Cell<bool>>,
    set_busy: UseStateSetter<bool>,
    set_error: UseStateSetter<Option<CommandError>>,
    command: PhantomData<fn() -> C>,
}

impl<C> Clone for UseActionHandle<C> {
    fn clone(&self) -> Self {
        Self {
            busy: self.busy,
            error: self.error.clone(),
            running: self.running.clone(),
            set_busy: self.set_busy.clone(),
            set_error: self.set_error.clone(),
            command: PhantomData,
        }
    }
}

impl<C> UseActionHandle<C>
where
    C: Command + 'static,
    C::Args: 'static,
{
    /// Runs the command unless it is already running; `on_success` gets its result (and may
    /// leave the page). A failure is kept in `error`.
    pub fn run(&self, args: C::Args, on_success: impl FnOnce(C::Output) + 'static) {
        if self.running.replace(true) {
            return;
        }
        self.set_busy.set(true);
        self.set_error.set(None);
        let (running, set_busy, set_error) = (self.running.clone(), self.set_busy.clone(), self.set_error.clone());
        spawn_local(async move {
            let result = invoke::<C>(&args).await;
            running.set(false);
            set_busy.set(false);
            match result {
                Ok(output) => on_success(output),
                Err(error) => set_error.set(Some(error)),
            }
        });
    }
}

impl<C> UseActionHandle<C> {
    /// Forgets the last run's error (a form opened again starts clean).
    pub fn clear_error(&self) {
        self.set_error.set(None);
    }
}

/// A command that changes something, run when the user asks ([`UseActionHandle::run`]).
#[hook]
pub fn use_action<C>() -> UseActionHandle<C>
where
    C: Command + 'static,
{
    let busy = use_state_eq(|| false);
    let error = use_state_eq(|| None::<CommandError>);
    let running: Rc<Cell<bool>> = use_memo((), |_| Cell::new(false));
    UseActionHandle {
        busy: *busy,
        error: (*error).clone(),
        running,
        set_busy: busy.setter(),
        set_error: error.setter(),
        command: PhantomData,
    }
}

/// An `oninput` handler that keeps what is typed into an input or a text area in `state`.
pub fn keep_typed(state: &UseStateHandle<String>) -> Callback<InputEvent> {
    let state = state.clone();
    Callback::from(move |e: InputEvent| {
        use wasm_bindgen::JsCast;
        let Some(target) = e.target() else { return };
        let value = match target.dyn_ref::<web_sys::HtmlInputElement>() {
            Some(input) => Some(input.value()),
            None => target.dyn_ref::<web_sys::HtmlTextAreaElement>().map(|area| area.value()),
        };
        if let Some(value) = value {
            state.set(value);
        }
    })
}
