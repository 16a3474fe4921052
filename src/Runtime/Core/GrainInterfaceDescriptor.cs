using System.Linq.Expressions;
using System.Reflection;

namespace Xmbl.Cluster.Runtime.Core;

/// <summary>The callable methods of one grain interface, each with a compiled invoker.</summary>
internal sealed class GrainInterfaceDescriptor
{
    private readonly Dictionary<MethodInfo, GrainMethodInvoker> _methods;

    private GrainInterfaceDescriptor(Type interfaceType, Dictionary<MethodInfo, GrainMethodInvoker> methods)
    {
        InterfaceType = interfaceType;
        _methods = methods;
    }

    public Type InterfaceType { get; }

    public GrainMethodInvoker GetInvoker(MethodInfo method) =>
        _methods.TryGetValue(method, out var invoker)
            ? invoker
            : throw new InvalidOperationException($"{method.DeclaringType?.Name}.{method.Name} is not a method of grain interface {InterfaceType.Name}.");

    public static GrainInterfaceDescriptor Create(Type interfaceType)
    {
        var methods = new Dictionary<MethodInfo, GrainMethodInvoker>();
        foreach (var method in GrainRegistration.AllInterfaceMethods(interfaceType))
        {
            methods[method] = GrainMethodInvoker.Create(interfaceType, method);
        }

        return new GrainInterfaceDescriptor(interfaceType, methods);
    }
}

/// <summary>Invokes one grain interface method: on the proxy side it starts a grain call; on the grain side it runs the method.</summary>
internal abstract class GrainMethodInvoker
{
    protected GrainMethodInvoker(MethodInfo method, Func<object, object?[], object> body)
    {
        Method = method;
        Body = body;
        var parameters = method.GetParameters();
        CancellationTokenIndex = Array.FindIndex(parameters, p => p.ParameterType == typeof(CancellationToken));
    }

    public MethodInfo Method { get; }

    /// <summary>The index of the method's <see cref="CancellationToken"/> parameter, or -1.</summary>
    public int CancellationTokenIndex { get; }

    /// <summary>Calls the method on a grain instance and returns its task (boxed for value tasks).</summary>
    protected Func<object, object?[], object> Body { get; }

    /// <summary>Starts a grain call for a proxy and returns the object the interface method returns.</summary>
    public abstract object StartCall(GrainReference reference, object?[] args);

    public CancellationToken GetCancellationToken(object?[] args) =>
        CancellationTokenIndex >= 0 && args[CancellationTokenIndex] is CancellationToken ct ? ct : CancellationToken.None;

    public static GrainMethodInvoker Create(Type interfaceType, MethodInfo method)
    {
        var where = $"{interfaceType.Name}.{method.Name}";
        if (method.IsGenericMethodDefinition)
        {
            throw new InvalidOperationException($"Grain method {where} is generic; grain methods cannot be generic.");
        }

        if (method.GetParameters().Any(p => p.ParameterType.IsByRef))
        {
            throw new InvalidOperationException($"Grain method {where} has a ref/out/in parameter; grain methods take parameters by value.");
        }

        var body = CompileBody(method);
        var returnType = method.ReturnType;
        Type invokerType;
        if (returnType == typeof(Task))
        {
            invokerType = typeof(TaskInvoker);
        }
        else if (returnType == typeof(ValueTask))
        {
            invokerType = typeof(ValueTaskInvoker);
        }
        else if (returnType.IsGenericType && returnType.GetGenericTypeDefinition() == typeof(Task<>))
        {
            invokerType = typeof(TaskInvoker<>).MakeGenericType(returnType.GetGenericArguments());
        }
        else if (returnType.IsGenericType && returnType.GetGenericTypeDefinition() == typeof(ValueTask<>))
        {
            invokerType = typeof(ValueTaskInvoker<>).MakeGenericType(returnType.GetGenericArguments());
        }
        else
        {
            throw new InvalidOperationException(
                $"Grain method {where} returns {returnType.Name}; every grain method must return Task, Task<T>, ValueTask or ValueTask<T> " +
                "(properties are not allowed on grain interfaces).");
        }

        return (GrainMethodInvoker)Activator.CreateInstance(invokerType, method, body)!;
    }

    private static Func<object, object?[], object> CompileBody(MethodInfo method)
    {
        var target = Expression.Parameter(typeof(object), "target");
        var args = Expression.Parameter(typeof(object?[]), "args");
        var parameters = method.GetParameters();
        var arguments = new Expression[parameters.Length];
        for (var i = 0; i < parameters.Length; i++)
        {
            arguments[i] = Expression.Convert(Expression.ArrayIndex(args, Expression.Constant(i)), parameters[i].ParameterType);
        }

        var call = Expression.Call(Expression.Convert(target, method.DeclaringType!), method, arguments);
        return Expression.Lambda<Func<object, object?[], object>>(Expression.Convert(call, typeof(object)), target, args).Compile();
    }
}

/// <summary>An invoker whose grain-side result is <typeparamref name="TResult"/>.</summary>
internal abstract class GrainMethodInvoker<TResult>(MethodInfo method, Func<object, object?[], object> body) : GrainMethodInvoker(method, body)
{
    /// <summary>Runs the method on a grain instance.</summary>
    public abstract Task<TResult> RunAsync(object grain, object?[] args);
}

internal sealed class TaskInvoker(MethodInfo method, Func<object, object?[], object> body) : GrainMethodInvoker<object?>(method, body)
{
    public override object StartCall(GrainReference reference, object?[] args) => reference.Runtime.InvokeAsync(reference.Id, reference.Registration, this, args);

    public override async Task<object?> RunAsync(object grain, object?[] args)
    {
        await ((Task)Body(grain, args)).ConfigureAwait(false);
        return null;
    }
}

internal sealed class TaskInvoker<T>(MethodInfo method, Func<object, object?[], object> body) : GrainMethodInvoker<T>(method, body)
{
    public override object StartCall(GrainReference reference, object?[] args) => reference.Runtime.InvokeAsync(reference.Id, reference.Registration, this, args);

    public override Task<T> RunAsync(object grain, object?[] args) => (Task<T>)Body(grain, args);
}

internal sealed class ValueTaskInvoker(MethodInfo method, Func<object, object?[], object> body) : GrainMethodInvoker<object?>(method, body)
{
    public override object StartCall(GrainReference reference, object?[] args) => new ValueTask(reference.Runtime.InvokeAsync(reference.Id, reference.Registration, this, args));

    public override async Task<object?> RunAsync(object grain, object?[] args)
    {
        await ((ValueTask)Body(grain, args)).ConfigureAwait(false);
        return null;
    }
}

internal sealed class ValueTaskInvoker<T>(MethodInfo method, Func<object, object?[], object> body) : GrainMethodInvoker<T>(method, body)
{
    public override object StartCall(GrainReference reference, object?[] args) => new ValueTask<T>(reference.Runtime.InvokeAsync(reference.Id, reference.Registration, this, args));

    public override Task<T> RunAsync(object grain, object?[] args) => ((ValueTask<T>)Body(grain, args)).AsTask();
}
